// patroli analyst console: small page behaviour (no inline scripts: the CSP forbids them).
// 1. Every HTMX request carries the CSRF token from <meta name="csrf-token">.
// 2. "Select all on this page" checkboxes tick every checkbox named by data-target.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (ev) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && ev.detail && ev.detail.headers) {
      ev.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!box || !box.classList || !box.classList.contains("select-all")) { return; }
    var form = box.form || document;
    var name = box.getAttribute("data-target") || "post_id";
    form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (cb) {
      cb.checked = box.checked;
    });
  });
})();
