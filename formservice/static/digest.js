// Follows a digest's compilation without reloading; the page works without this script.
(function () {
  "use strict";
  var box = document.getElementById("digest-status");
  if (!box || (box.dataset.state !== "queued" && box.dataset.state !== "running")) return;
  var step = document.getElementById("digest-step");
  var bar = document.getElementById("digest-progress");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "done" || s.state === "failed") { window.location.reload(); return; }
        step.textContent = s.step + " (" + s.progress + " %)";
        if (bar) { bar.value = s.progress; bar.textContent = s.progress + " %"; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
