// Shared polling for live pages (jobs, pipeline runs): while ROOT is marked active, fetch its
// status URL every two seconds, hand the JSON to RENDER, and reload once the work has stopped
// (the server-rendered page then shows the final state and its actions).
window.navabLiveStatus = function (root, render) {
  "use strict";
  if (!root || root.dataset.active !== "1") return;
  const url = root.dataset.statusUrl;
  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        render(data);
        if (!data.active) { window.location.reload(); return; }
      }
    } catch (err) {
      // A dropped request is retried on the next tick.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
};
