// Casework's progressive enhancement on top of the shared frame.js; every screen works without JavaScript.
(function () {
  "use strict";
  // Live referral status: refresh the fragment while a referral is still in progress.
  document.querySelectorAll("[data-poll]").forEach(function (el) {
    var seconds = parseInt(el.getAttribute("data-poll-seconds") || "10", 10);
    var settled = 0;
    var timer = setInterval(function () {
      if (document.hidden) { return; }
      fetch(el.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (html.trim() !== el.innerHTML.trim()) { el.innerHTML = html; }
          // Keep the timeline's copy of each status in step with the live list.
          el.querySelectorAll("[data-referral]").forEach(function (item) {
            var badge = item.querySelector("[data-status]");
            var entry = document.querySelector('[data-timeline-referral="' + item.getAttribute("data-referral") + '"]');
            if (badge && entry) { entry.textContent = badge.textContent.trim(); }
          });
          // Once nothing is in progress, look a few more times (a later status may still be on its way).
          var pending = el.querySelector('[data-status="requested"],[data-status="sent"],[data-status="accepted"],[data-status="started"]');
          settled = pending ? 0 : settled + 1;
          if (settled > 3) { clearInterval(timer); }
        })
        .catch(function () { clearInterval(timer); });
    }, seconds * 1000);
  });
})();
