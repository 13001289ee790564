// The live status page (templates/monitoring/status.html): refreshes the targets' states, last
// probes and results, the state counts, the open incidents and the planned maintenance in place
// from /api/status/, without a reload. The page is complete without this script (server-rendered);
// every text it writes comes from the page (data-label-*) or the API, already translated, and is
// set with textContent only (never parsed as HTML). Loaded from the portal's origin with the
// request's CSP nonce; no inline script.
"use strict";

(function () {
  var board = document.getElementById("status-board");
  if (!board || !window.fetch) { return; }

  var INTERVAL = Math.max(15, Math.min(30, parseInt(board.dataset.interval, 10) || 20)) * 1000;
  var HIDDEN_INTERVAL = 5 * 60 * 1000;   // a hidden tab asks rarely (and once more when shown)
  var MAX_BACKOFF = 5 * 60 * 1000;
  var endpoint = board.dataset.endpoint;
  var tz = board.dataset.timeZone || "Asia/Shanghai";
  var failures = 0;
  var timer = null;
  var inFlight = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // "YYYY-MM-DD HH:MM:SS" in the portal's time zone, as the server renders it.
  function fmt(iso, withSeconds) {
    if (!iso) { return "—"; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return "—"; }
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    var s = parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
    return withSeconds ? s + ":" + parts.second : s;
  }

  function label(name, time) {
    return (board.getAttribute("data-label-" + name) || "").replace("%(time)s", time || "");
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function updateTargets(data) {
    var seen = {};
    (data.targets || []).forEach(function (t) {
      seen[t.id] = true;
      var row = board.querySelector('tr[data-target-id="' + t.id + '"]');
      if (!row) { return; }
      var pill = row.querySelector('[data-field="state"]');
      if (pill && pill.dataset.state !== t.state) {
        pill.className = "pill state-" + t.state + " changed";
        pill.dataset.state = t.state;
      }
      if (pill) { pill.textContent = t.state_display; }
      var probe = row.querySelector('[data-field="last_probe_at"]');
      if (probe) { probe.textContent = fmt(t.last_probe_at, true); }
      var result = row.querySelector('[data-field="last_result"]');
      if (result) {
        result.textContent = t.last_result || "—";
        result.classList.toggle("result-fail", t.last_result_ok === false);
      }
    });
    // A target added or removed since the page was rendered: the bars cannot be drawn from the
    // poll (it carries no history), so say a reload shows it.
    var rows = board.querySelectorAll("tr[data-target-id]");
    var changed = rows.length !== Object.keys(seen).length;
    rows.forEach(function (r) { if (!seen[r.dataset.targetId]) { changed = true; } });
    var note = document.getElementById("status-changed");
    if (note) { note.textContent = board.dataset.labelChanged; note.hidden = !changed; }
  }

  function updateCounts(data) {
    var counts = data.counts || {};
    Object.keys(counts).forEach(function (state) {
      var n = board.querySelector('[data-count="' + state + '"]');
      if (n) { n.textContent = String(counts[state]); }
    });
  }

  function updateIncidents(data) {
    var list = document.getElementById("status-incidents");
    if (!list) { return; }
    var items = data.incidents || [];
    var frag = document.createDocumentFragment();
    if (!items.length) {
      frag.appendChild(el("li", "empty", board.dataset.labelNoIncidents));
    }
    items.forEach(function (i) {
      var li = el("li");
      var a = el("a", null, i.number || String(i.id));
      a.href = board.dataset.incidentUrl.replace(/\/0\/$/, "/" + i.id + "/");
      li.appendChild(a);
      var who = board.dataset.showCustomer ? i.customer.name + " · " : "";
      li.appendChild(document.createTextNode(" " + i.title + " · " + who + i.service.name + " "));
      li.appendChild(el("span", "pill incident-" + i.state, i.state_display));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "muted", label("since", fmt(i.since, false))));
      frag.appendChild(li);
    });
    list.replaceChildren(frag);
  }

  function updateMaintenance(data) {
    var list = document.getElementById("status-maintenance");
    if (!list) { return; }
    var items = data.maintenance || [];
    var frag = document.createDocumentFragment();
    if (!items.length) {
      frag.appendChild(el("li", "empty", board.dataset.labelNoMaintenance));
    }
    items.forEach(function (m) {
      var li = el("li");
      li.appendChild(el("span", "pill " + (m.ongoing ? "maint-ongoing" : "maint-planned"),
                        m.ongoing ? board.dataset.labelOngoing : board.dataset.labelPlanned));
      var when = fmt(m.starts_at, false) + (m.ends_at ? " – " + fmt(m.ends_at, false) : "");
      li.appendChild(document.createTextNode(" " + m.title + " · " + when + " "));
      li.appendChild(el("span", "muted", (m.services || []).join("、")));
      frag.appendChild(li);
    });
    list.replaceChildren(frag);
  }

  function setStale(stale) {
    var s = document.getElementById("status-stale");
    if (s) { s.hidden = !stale; }
    board.classList.toggle("is-stale", stale);
  }

  function schedule() {
    clearTimeout(timer);
    var wait;
    if (failures) {
      // Back off on failure: 20 s, 40 s, 80 s … at most 5 minutes.
      wait = Math.min(MAX_BACKOFF, INTERVAL * Math.pow(2, failures - 1));
    } else {
      wait = document.hidden ? HIDDEN_INTERVAL : INTERVAL;
    }
    timer = setTimeout(poll, wait);
  }

  function poll() {
    if (inFlight) { return; }
    inFlight = true;
    fetch(endpoint, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        updateTargets(data);
        updateCounts(data);
        updateIncidents(data);
        updateMaintenance(data);
        var u = document.getElementById("status-updated");
        if (u) { u.textContent = label("updated", fmt(data.generated_at, true)); }
        failures = 0;
        setStale(false);
      })
      .catch(function () {
        failures += 1;
        setStale(true);
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    // Shown again: refresh at once rather than wait out the long hidden interval.
    if (!document.hidden && !failures) { clearTimeout(timer); poll(); }
    else { schedule(); }
  });

  schedule();
})();
