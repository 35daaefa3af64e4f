// Live progress for a pipeline run page: polls the status endpoint while the run is queued or running.
(function () {
  "use strict";
  const root = document.getElementById("run");
  const byId = (id) => document.getElementById(id);
  const text = (id, value) => { const el = byId(id); if (el) el.textContent = value; };
  const pairs = (values) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(", ") || "—";

  function render(data) {
    const status = byId("run-status");
    status.textContent = data.status_label;
    status.className = "badge badge-" + data.status;
    text("run-stages", `stage ${data.stages_done} / ${data.stages_total} done`);
    byId("run-progress").value = data.percent;
    const counts = data.total ? ` (${data.done} / ${data.total})` : "";
    text("run-progress-label", `${data.stage || "—"}${counts}`);
    byId("run-approval").hidden = data.status !== "waiting_approval";
    text("run-pending", String(data.pending_approvals));
    byId("run-failure").hidden = data.status !== "failed";
    text("run-error", data.error);
    text("run-log", data.log_tail || "(empty)");
    byId("run-stage-rows").replaceChildren(...data.stages.map((row) => {
      const tr = document.createElement("tr");
      const cells = [row.stage, null, pairs(row.counts), pairs(row.dropped)].map((value) => {
        const td = document.createElement("td");
        if (value !== null) td.textContent = value;
        return td;
      });
      const badge = document.createElement("span");
      badge.className = "badge badge-" + row.state;
      badge.textContent = row.state;
      cells[1].append(badge);
      tr.append(...cells);
      return tr;
    }));
  }

  window.navabLiveStatus(root, render);
})();
