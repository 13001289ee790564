// Live clocks on every page (loaded from templates/base.html): the time left on each clock
// (<span class="countdown" data-clock data-due data-warn data-state>, rendered by the time_left tag
// of sla/templatetags/sla_ui.py) ticks every second, and the clocks on the page are refreshed from
// /api/clocks/live/ every 10 s, so a clock entering its warning window, breaching, being met,
// paused or resumed shows without a reload (the state pills carry data-clock-pill="<id>").
//
// The page is complete without this script (server-rendered text is the fallback). Every text it
// writes comes from the page (<body data-label-*>, the same wordings as format_span and
// time_left_text) or from the API, already translated, and is set with textContent only. Times are
// taken from the server (<body data-server-now>, corrected by each poll), never trusted from the
// client's clock. No inline script: served from the portal's static files.
"use strict";

(function () {
  var body = document.body;
  if (!body || !body.dataset.labelLeft) { return; }

  var INTERVAL = 10 * 1000;
  var HIDDEN_INTERVAL = 5 * 60 * 1000;   // a hidden tab asks rarely (and once more when shown)
  var MAX_BACKOFF = 5 * 60 * 1000;
  var MAX_IDS = 200;
  var endpoint = body.dataset.liveEndpoint;
  var offset = 0;                        // server time minus client time, in ms
  var failures = 0;
  var timer = null;
  var inFlight = false;
  var stopped = false;

  // The server stamped the page just before sending it: compare with the moment its first byte
  // arrived (Navigation Timing), not with now, so the page's transfer does not make clocks lag.
  var serverNow = Date.parse(body.dataset.serverNow || "");
  if (!isNaN(serverNow)) {
    var arrived = Date.now();
    var nav = window.performance && performance.getEntriesByType &&
      performance.getEntriesByType("navigation")[0];
    if (nav && nav.responseStart > 0 && performance.timeOrigin) {
      arrived = performance.timeOrigin + nav.responseStart;
    }
    offset = serverNow - arrived;
  }

  function now() { return Date.now() + offset; }

  function label(name) { return body.getAttribute("data-label-" + name) || ""; }

  // format_span: days/hours/minutes, rounded down to the minute.
  function span(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var d = Math.floor(minutes / 1440);
    var rest = minutes % 1440;
    var h = Math.floor(rest / 60);
    var m = rest % 60;
    if (d) { return label("days").replace("%(d)d", d).replace("%(h)d", h); }
    if (h) { return label("hours").replace("%(h)d", h).replace("%(m)d", m); }
    return label("minutes").replace("%(m)d", m);
  }

  // Seconds until due as the server counts them (int() truncates toward zero).
  function secondsLeft(el, t) {
    var due = Date.parse(el.dataset.due || "");
    return isNaN(due) ? null : Math.trunc((due - t) / 1000);
  }

  // time_left_text for a running or breached clock; null: leave the text as it is.
  function textFor(el, t) {
    var state = el.dataset.state;
    if (state === "met" || state === "cancelled") { return "—"; }
    if (state === "paused") { return null; }   // a paused clock's time stands still
    var secs = secondsLeft(el, t);
    if (secs === null) { return null; }
    if (secs < 0 || state === "breached") { return label("overdue").replace("%(span)s", span(secs)); }
    return label("left").replace("%(span)s", span(secs));
  }

  // Late (red) and warning (orange) on the countdown and on the cell or span that holds it.
  function setFlags(el, late, warning) {
    [el, el.parentElement].forEach(function (e) {
      if (!e || (e !== el && !/^(TD|DD|SPAN)$/.test(e.tagName))) { return; }
      e.classList.toggle("late", late);
      e.classList.toggle("soon", warning);
    });
    var row = el.closest("tr");
    var bucket = row && row.querySelector("[data-clock-bucket]");
    var table = row && row.closest("[data-label-overdue]");
    if (bucket && table && (late || warning)) {
      var b = late ? "overdue" : "warning";
      bucket.className = "pill " + b;
      bucket.textContent = table.getAttribute("data-label-" + b);
    }
  }

  function classify(el, t) {
    var state = el.dataset.state;
    if (state === "paused") { return; }   // the server's flags stand until the next refresh
    var secs = secondsLeft(el, t);
    var late = state === "breached" || (state === "running" && secs !== null && secs < 0);
    var warn = Date.parse(el.dataset.warn || "");
    var warning = !late && state === "running" && !isNaN(warn) && t >= warn;
    setFlags(el, late, warning);
  }

  function tick() {
    var t = now();
    document.querySelectorAll("span.countdown").forEach(function (el) {
      var text = textFor(el, t);
      if (text !== null && el.textContent !== text) { el.textContent = text; }
      classify(el, t);
    });
  }

  function clockIds() {
    var seen = {};
    var ids = [];
    document.querySelectorAll("[data-clock], [data-clock-pill]").forEach(function (el) {
      var id = el.getAttribute("data-clock") || el.getAttribute("data-clock-pill");
      if (/^[0-9]+$/.test(id) && !seen[id] && ids.length < MAX_IDS) { seen[id] = true; ids.push(id); }
    });
    return ids;
  }

  function apply(c) {
    document.querySelectorAll('span.countdown[data-clock="' + c.id + '"]').forEach(function (el) {
      el.dataset.state = c.state;
      el.dataset.due = c.due_at;
      el.dataset.warn = c.warn_at;
      el.textContent = c.time_left;
      setFlags(el, c.late, c.warning);
    });
    document.querySelectorAll('[data-clock-pill="' + c.id + '"]').forEach(function (pill) {
      if (!pill.classList.contains(c.state)) { pill.className = "pill " + c.state + " changed"; }
      pill.textContent = c.state_label;
    });
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped) { return; }
    var wait;
    if (failures) {
      // Back off on failure: 10 s, 20 s, 40 s … at most 5 minutes.
      wait = Math.min(MAX_BACKOFF, INTERVAL * Math.pow(2, failures - 1));
    } else {
      wait = document.hidden ? HIDDEN_INTERVAL : INTERVAL;
    }
    timer = setTimeout(poll, wait);
  }

  function poll() {
    var ids = clockIds();
    if (inFlight || stopped || !ids.length) { return; }
    inFlight = true;
    var sent = Date.now();
    fetch(endpoint + "?ids=" + ids.join(","), {
      credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store"
    })
      .then(function (r) {
        // Signed out or no longer allowed: stop asking (a reload shows the sign-in page).
        if (r.status === 401 || r.status === 403) { stopped = true; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        var at = Date.parse(data.now || "");
        if (!isNaN(at)) { offset = at - (sent + Date.now()) / 2; }
        (data.clocks || []).forEach(apply);
        failures = 0;
        tick();
      })
      .catch(function () { failures += 1; })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  // Tick on the second boundary (of the server's time), so every countdown changes together.
  function loop() {
    tick();
    setTimeout(loop, 1000 - (now() % 1000) + 5);
  }

  loop();
  if (endpoint && window.fetch && clockIds().length) {
    document.addEventListener("visibilitychange", function () {
      // Shown again: refresh at once rather than wait out the long hidden interval.
      if (!document.hidden && !failures) { clearTimeout(timer); poll(); }
      else { schedule(); }
    });
    schedule();
  }
})();
