// Starts Swagger UI on the gatehouse documentation page.
//
// This file exists so that the page has no inline script and can be served
// with a strict Content-Security-Policy. The page passes the document's URL in
// data-spec-url.
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    // Only the API preset: the standalone preset's top bar renders an inline
    // <style> element, which style-src 'self' would refuse.
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Never let ?url= or ?configUrl= point the page at another document.
    queryConfigEnabled: false,
    // The default sends the document to validator.swagger.io: stay offline.
    validatorUrl: null,
    // Keep access tokens in memory only, never in localStorage.
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 1
  });
})();
