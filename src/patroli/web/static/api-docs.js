// Starts Swagger UI on /api/v1/docs (a static file: the CSP forbids inline scripts).
// Memulai Swagger UI di /api/v1/docs.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: el.getAttribute("data-openapi-url"),
    domNode: el,
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,
    tryItOutEnabled: false
  });
})();
