// return.js improves the return page while a payment is waiting: instead of
// reloading the whole page every 2 seconds (the <noscript> meta refresh), it
// asks /return/{orderId}/status and reloads only once the outcome is known.
// It polls every 2 seconds for the first minute, then every 5.
(function () {
  "use strict";
  var el = document.querySelector("[data-status-url]");
  if (!el) {
    return;
  }
  var url = el.getAttribute("data-status-url");
  var started = Date.now();
  function later(f) {
    setTimeout(f, Date.now() - started < 60000 ? 2000 : 5000);
  }
  if (!window.fetch) {
    later(function () { window.location.reload(); });
    return;
  }
  function poll() {
    fetch(url, { cache: "no-store", credentials: "omit", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { waiting: true }; })
      .then(function (s) {
        if (s.waiting) {
          later(poll);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { later(poll); });
  }
  later(poll);
})();
