// The header's unread-notification badge (templates/base.html, a.inbox-badge): asks
// /api/inbox/unread-count/ every 60 s while the tab is visible, and once when it becomes visible
// again, and updates the number in place (textContent only; "99+" past 99, hidden at 0). The
// badge is complete without this script (server-rendered). No inline script.
"use strict";

(function () {
  var badge = document.querySelector("a.inbox-badge[data-inbox-count-url]");
  if (!badge || !window.fetch) { return; }
  var count = badge.querySelector(".inbox-count");
  var endpoint = badge.getAttribute("data-inbox-count-url");
  var INTERVAL = 60 * 1000;
  var inFlight = false;

  function show(n) {
    if (typeof n !== "number" || n < 0) { return; }
    count.textContent = n > 99 ? "99+" : String(n);
    count.hidden = n === 0;
    badge.classList.toggle("has-unread", n > 0);
  }

  function refresh() {
    if (inFlight || document.hidden) { return; }
    inFlight = true;
    fetch(endpoint, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data.unread); } })
      .catch(function () { /* offline or signed out: keep what is shown */ })
      .then(function () { inFlight = false; });
  }

  setInterval(refresh, INTERVAL);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
