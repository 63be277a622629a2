// vipps-button.js shows Vipps' own button (the vipps-mobilepay-button web
// component of Vipps' button library, loaded from Vipps) in place of the
// page's builtin one, once the library has defined it. A click on it sends
// the form as the builtin button would, with its name and value. Where the
// library never loads (offline, blocked, JavaScript off) nothing changes:
// the builtin <button type=submit> stays. See internal/web/button.go.
(function () {
  "use strict";
  if (!window.customElements || !window.HTMLFormElement || !HTMLFormElement.prototype.requestSubmit) {
    return;
  }
  customElements.whenDefined("vipps-mobilepay-button").then(function () {
    var boxes = document.querySelectorAll("[data-vipps-button]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var vipps = box.querySelector("vipps-mobilepay-button");
      var own = box.querySelector("button.vipps-button");
      if (!vipps || !own || !own.form) {
        continue;
      }
      vipps.addEventListener("click", function (own) {
        return function () { own.form.requestSubmit(own); };
      }(own));
      box.classList.add("vipps-ready");
    }
  });
})();
