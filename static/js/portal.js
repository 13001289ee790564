// Behaviour of the server-rendered pages. No inline script anywhere: the Content-Security-Policy
// allows scripts from the portal's own origin only.
"use strict";

// <select data-autosubmit>: submit its form as soon as the choice changes (the language switch).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});
