// Progressive enhancement: update the bar without reloading the page (no automatic refresh).
(function () {
  const box = document.getElementById("rebuild");
  const nf = new Intl.NumberFormat("de-DE");
  async function tick() {
    const r = await fetch("/dashboard/fortschritt?generation=" + box.dataset.generation, {credentials: "same-origin"});
    if (!r.ok) return;
    const p = await r.json();
    document.getElementById("rebuild-progress").value = p.percent;
    const eta = p.eta_s === null ? "" : ", noch etwa " + nf.format(Math.round(p.eta_s / 6) / 10) + " min";
    document.getElementById("rebuild-text").textContent = p.state === "building"
      ? nf.format(p.events_read) + " von " + nf.format(p.events_total) + " Ereignissen gelesen (" + nf.format(p.percent) + " %), " + nf.format(Math.round(p.rate_per_s)) + " Ereignisse/s" + eta
      : "Fertig: Generation " + p.generation + " ist jetzt aktiv. Laden Sie die Seite neu, um sie zu sehen.";
    if (p.state === "building") setTimeout(tick, 3000);
  }
  setTimeout(tick, 3000);
})();
