// GOV.UK Frontend's "JavaScript is on" snippet, as a file: the Content-Security-Policy runs no
// inline script. Loaded at the top of <body>, before the page is drawn.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
