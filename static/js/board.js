/* Board pages: Plotly charts from embedded JSON, the column chooser (state kept in the URL),
   filters that apply on change, the compare picker and copy buttons. No dependencies besides
   the locally served plotly.min.js (loaded before this file on pages with charts). */
(function () {
  "use strict";

  function drawCharts() {
    var holders = document.querySelectorAll("[data-chart]");
    if (!holders.length || !window.Plotly) return;
    holders.forEach(function (holder) {
      var source = document.getElementById(holder.getAttribute("data-chart"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      var config = {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["sendDataToCloud"],
      };
      // Maps: Plotly fetches its topojson from cdn.plot.ly unless told where the site serves it.
      var topojson = holder.getAttribute("data-topojson");
      if (topojson) config.topojsonURL = topojson;
      var data = figure.data || [];
      var layout = figure.layout || {};
      if (holder.clientWidth < NARROW) narrow(holder.clientWidth, data, layout);
      window.Plotly.newPlot(holder, data, layout, config);
    });
  }

  // Below this width (a phone) a figure built for a desktop page is reshaped: a map's colour
  // bar goes under it and its height follows its width (it was a 170 px map beside a bar
  // taller than itself), a radar's circle takes the width, margins shrink.
  var NARROW = 600;

  function narrow(width, data, layout) {
    var title = layout.title && layout.title.text !== undefined ? layout.title : { text: layout.title };
    layout.title = Object.assign({}, title, { font: { size: 13 } });
    if (layout.geo) {
      data.forEach(function (trace) {
        if (trace.colorbar) {
          trace.colorbar = Object.assign({}, trace.colorbar, {
            orientation: "h", x: 0.5, xanchor: "center", y: 0, yanchor: "top",
            thickness: 12, len: 0.9, title: { text: "", side: "top" },
          });
        }
      });
      layout.margin = { l: 0, r: 0, t: 36, b: 64 };
      layout.height = Math.round(width * 0.52) + 100;
      layout.legend = Object.assign({}, layout.legend, { y: -0.35 });
    } else if (layout.polar) {
      layout.margin = { l: 56, r: 56, t: 44, b: 24 };
      layout.height = Math.max(280, width - 30);
      var angular = Object.assign({}, layout.polar.angularaxis);
      angular.tickfont = { size: 10 };
      layout.polar = Object.assign({}, layout.polar, { angularaxis: angular });
    } else {
      layout.margin = Object.assign({}, layout.margin, { l: 48, r: 8 });
      if (layout.yaxis && layout.yaxis.type === "category") wrapCategories(data, layout);
      var legend = layout.legend;
      if (legend && legend.orientation === "h" && legend.y < 0) {
        // Below the axis title at any height: a fraction of a short phone plot reached into it.
        var plot = (layout.height || 450) - (layout.margin.t || 40) - (layout.margin.b || 60);
        layout.legend = Object.assign({}, legend, { y: -LEGEND_DROP / Math.max(plot, 1) });
      }
    }
  }

  // A model's name as a y label ("an-organisation/steady-model-13b-chat@02815db") took half a
  // phone's width, or ran off its left edge: on a phone it is broken into lines of at most
  // LABEL_CHARS after "/", "-", "_" or "." and before "@", and each row made tall enough.
  var LABEL_CHARS = 16;
  // Pixels from the plot's bottom to a legend under it: tick labels and the axis title.
  var LEGEND_DROP = 64;

  function wrapLabel(text) {
    var tokens = String(text).split(/(?<=[\/\-_.])|(?=@)/);
    var lines = [""];
    tokens.forEach(function (token) {
      var last = lines[lines.length - 1];
      if (last && last.length + token.length > LABEL_CHARS) lines.push(token);
      else lines[lines.length - 1] = last + token;
    });
    return lines;
  }

  function wrapCategories(data, layout) {
    var order = layout.yaxis.categoryarray ? layout.yaxis.categoryarray.slice() : [];
    data.forEach(function (trace) {
      (trace.y || []).forEach(function (y) { if (order.indexOf(y) < 0) order.push(y); });
    });
    var most = 1;
    var text = order.map(function (label) {
      var lines = wrapLabel(label);
      most = Math.max(most, lines.length);
      return lines.join("<br>");
    });
    layout.yaxis = Object.assign({}, layout.yaxis, { tickmode: "array", tickvals: order, ticktext: text });
    var rows = order.length * (14 * most + 10);
    layout.height = Math.max(layout.height || 0, rows + (layout.margin.t || 40) + (layout.margin.b || 60) + 60);
  }

  // Columns: the table hides a column with the class "hide-<key>"; the URL keeps the choice
  // (an empty "col" means "none", no "col" at all means the defaults).
  function setColumnParams(params, chosen) {
    params.delete("col");
    if (!chosen.length) params.append("col", "");
    chosen.forEach(function (key) { params.append("col", key); });
  }

  function initColumnChooser() {
    var table = document.getElementById("board-table");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-column]"));
    if (!boxes.length) return;
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (table) table.classList.toggle("hide-" + box.value, !box.checked);
        var chosen = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
        var params = new URLSearchParams(window.location.search);
        setColumnParams(params, chosen);
        window.history.replaceState(null, "", "?" + params.toString() + window.location.hash);
        // Sort headers, tabs and page links carry the view state: keep their columns in step.
        document.querySelectorAll("a[data-state-link]").forEach(function (link) {
          var url = new URL(link.href, window.location.href);
          setColumnParams(url.searchParams, chosen);
          link.href = url.pathname + "?" + url.searchParams.toString() + url.hash;
        });
      });
    });
  }

  function initAutosubmit() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.form) input.form.requestSubmit();
      });
    });
  }

  // Compare: 2 to 4 ticked rows go to /compare/?models=1,2 (the picker also accepts repeats).
  function initCompare() {
    var form = document.getElementById("compare-form");
    var button = document.getElementById("compare-button");
    if (!form || !button) return;
    function ticked() {
      return Array.prototype.slice.call(document.querySelectorAll('input[name="models"][form="compare-form"]:checked'));
    }
    function update() {
      var count = ticked().length;
      button.disabled = count < 2 || count > 4;
      button.textContent = count ? "Compare selected (" + count + ")" : "Compare selected";
    }
    document.querySelectorAll('input[name="models"][form="compare-form"]').forEach(function (box) {
      box.addEventListener("change", update);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var ids = ticked().map(function (box) { return box.value; });
      var params = new URLSearchParams();
      var release = form.querySelector('input[name="release"]');
      if (release) params.set("release", release.value);
      params.set("models", ids.join(","));
      window.location.assign(form.action + "?" + params.toString());
    });
    update();
  }

  function initCopyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-copy");
        var done = function () {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { selectBlock(button); });
        } else {
          selectBlock(button);
        }
      });
    });
  }

  // Without clipboard access (plain http), select the command so Ctrl+C copies it.
  function selectBlock(button) {
    var code = button.parentElement.querySelector("code");
    if (!code) return;
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function init() {
    drawCharts();
    initColumnChooser();
    initAutosubmit();
    initCompare();
    initCopyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
