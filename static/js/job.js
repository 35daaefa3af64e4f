// Live progress for the job page: polls the status endpoint while the job is active.
(function () {
  "use strict";
  const root = document.getElementById("job");
  const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };

  function render(data) {
    const status = document.getElementById("job-status");
    status.textContent = data.status_label;
    status.className = "status status-" + data.status;
    document.getElementById("job-progress").value = data.percent;
    text("job-progress-label", data.label);
    text("job-log", data.log_tail || "(empty)");
    const failure = document.getElementById("job-failure");
    failure.hidden = data.status !== "failed";
    text("job-failure-kind", `${data.failure_kind || ""} failure`);
    text("job-failure-reason", data.failure_reason);
    const list = document.getElementById("job-events");
    list.replaceChildren(...data.events.map((e) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = e.at;
      time.textContent = e.at.replace("T", " ").slice(0, 19);
      const badge = document.createElement("span");
      badge.className = "status status-" + e.status;
      badge.textContent = e.status;
      li.append(time, " ", badge, " ", e.message);
      return li;
    }));
  }

  window.navabLiveStatus(root, render);
})();
