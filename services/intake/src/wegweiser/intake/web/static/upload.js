// The upload page's progress bars; every step also works without JavaScript.
(function () {
  "use strict";
  // While a file is uploaded and checked (or imported), show the busy bar and keep the button from a
  // second click. The file itself is idempotent per reference; this only spares a second wait.
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var busy = document.getElementById(form.getAttribute("data-progress"));
      if (busy) { busy.hidden = false; }
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
      form.addEventListener("submit", function (e) { e.preventDefault(); });
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
