/* Long sections marked `data-fold` are open on wide screens and start closed on a phone, where
   they made pages ten screens tall (a job's 130 score rows, a compare table, the board's
   filters above its table); their summary says what they hold, one tap opens them. */
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 48rem)").matches) return;
  document.querySelectorAll("details[data-fold]").forEach(function (section) {
    section.open = false;
  });
})();
