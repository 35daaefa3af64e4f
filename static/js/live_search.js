/* Search as you type: a search box marked data-live-search reloads its form's results
   (the element marked data-live-results) a moment after the last key, and keeps the URL in
   step (history.replaceState), so the address is always the one the form would submit.
   Without JavaScript the form submits as before. */
(function () {
  "use strict";
  var DELAY_MS = 300;

  function query(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { params.append(key, value); });
    params.delete("page"); // a new search starts at its first page
    return params.toString();
  }

  function bind(input) {
    var form = input.form;
    var region = document.querySelector("[data-live-results]");
    if (!form || !region || !window.fetch || !window.DOMParser) return;
    var timer = null;
    var latest = 0;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var asked = ++latest;
        var search = query(form);
        var url = (form.getAttribute("action") || window.location.pathname) + "?" + search;
        region.setAttribute("aria-busy", "true");
        window.fetch(url, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
          .then(function (html) {
            if (asked !== latest) return; // an older answer arriving after a newer one
            var page = new DOMParser().parseFromString(html, "text/html");
            var fresh = page.querySelector("[data-live-results]");
            if (fresh) region.innerHTML = fresh.innerHTML;
            window.history.replaceState(null, "", "?" + search + window.location.hash);
          })
          .catch(function () { /* the form still submits: nothing lost */ })
          .then(function () { if (asked === latest) region.removeAttribute("aria-busy"); });
      }, DELAY_MS);
    });
  }

  document.querySelectorAll("input[data-live-search]").forEach(bind);
})();
