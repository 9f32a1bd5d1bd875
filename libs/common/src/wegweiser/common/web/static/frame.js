// Shared progressive enhancement of the page frame; every screen works without JavaScript.
(function () {
  "use strict";
  // Move focus to the error summary so screen readers and keyboard users land on it (GOV.UK pattern).
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
