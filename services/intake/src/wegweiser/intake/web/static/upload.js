// The upload page's progress bars; every step also works without JavaScript.
(function () {
  "use strict";
  // While a file is uploaded and checked (or imported), show the busy bar and keep the form from a
  // second submit. Registration is idempotent per reference anyway; this only spares a second wait.
  // Buttons that only download (no data-busy) leave the page as it is.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      var busy = button && document.getElementById(button.getAttribute("data-busy") || "");
      if (!busy) { return; }
      busy.hidden = false;
      button.setAttribute("aria-disabled", "true");
      form.addEventListener("submit", function (again) { again.preventDefault(); });
    });
  });
  // A running import: follow its progress until it ends, then show the result.
  var box = document.getElementById("import-progress");
  var url = box && box.getAttribute("data-poll");
  if (!url) { return; }
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var timer = setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        bar.value = p.percent;
        bar.setAttribute("aria-valuetext", p.text);
        text.textContent = p.text + " (" + Math.round(p.percent) + " %)";
        if (p.status === "completed" || p.status === "failed") {
          clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () { clearInterval(timer); });
  }, 1000);
})();
