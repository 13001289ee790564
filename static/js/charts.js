// Charts where people would rather look than read: the downtime page's availability per month
// and outage timeline, a monitored target's response times, the breach history's breaches per
// promise and month. Every chart is a <div data-chart="kind" data-source="id"> whose figures are in
// a <script type="application/json" id="id"> block (Django's json_script) and whose texts come
// from the page's data-label-* attributes, already translated: this file holds no words. The page
// is complete without it (each chart has its figures as a table next to it). Bars and timelines
// are small SVGs drawn here; the response-time line uses the vendored uPlot. Text is only ever
// set with textContent. Loaded from the portal's origin (CSP: no inline script).
"use strict";

(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var W = 760;

  function readData(node) {
    var src = document.getElementById(node.dataset.source || "");
    if (!src) { return null; }
    try { return JSON.parse(src.textContent); } catch (e) { return null; }
  }

  function label(node, name, fallback) {
    var v = node.getAttribute("data-label-" + name);
    return v === null ? (fallback || "") : v;
  }

  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function text(parent, x, y, s, cls, anchor) {
    var t = svgEl("text", {x: x, y: y, "class": cls || "chart-tick", "text-anchor": anchor || "middle"}, parent);
    t.textContent = s;
    return t;
  }

  function title(parent, s) {
    if (s) { svgEl("title", {}, parent).textContent = s; }
  }

  function newSvg(node, height) {
    var s = svgEl("svg", {viewBox: "0 0 " + W + " " + height, width: "100%", "class": "chart-svg",
                          role: "presentation", "aria-hidden": "true"});
    node.appendChild(s);
    return s;
  }

  // Legend below a chart: [{cls: "sw-…", text: "…"}].
  function legend(node, items) {
    var ul = document.createElement("ul");
    ul.className = "chart-legend";
    items.forEach(function (it) {
      var li = document.createElement("li");
      var sw = document.createElement("span");
      sw.className = "chart-swatch " + it.cls;
      li.appendChild(sw);
      li.appendChild(document.createTextNode(it.text));
      ul.appendChild(li);
    });
    node.appendChild(ul);
  }

  // A round step (1, 2 or 5 × 10^k) giving about `n` intervals over `span`.
  function niceStep(span, n) {
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  function decimalsOf(step) { return Math.max(0, -Math.floor(Math.log10(step) + 1e-9)); }

  // Bars per category (months), single or stacked, on a y axis [yMin, yMax] with ticks. Each
  // category is an SVG group whose <title> is the hover text; a bar's own title wins over it.
  //   o = {labels, stacks: [[{v, cls, title}]], yMin, yMax, step, yLabel, yUnit, titles,
  //        line: [value|null] (a promised level per category), lineTitle}
  function bars(node, o) {
    var H = 270, L = 62, R = 14, T = 14, B = 40;
    var pw = W - L - R, ph = H - T - B, n = o.labels.length;
    var svg = newSvg(node, H);
    var dec = decimalsOf(o.step);
    function y(v) { return T + ph - (Math.max(o.yMin, Math.min(o.yMax, v)) - o.yMin) / (o.yMax - o.yMin) * ph; }
    for (var tv = o.yMin; tv <= o.yMax + o.step / 2; tv += o.step) {
      var ty = y(tv);
      svgEl("line", {x1: L, x2: L + pw, y1: ty, y2: ty, "class": "chart-grid"}, svg);
      text(svg, L - 6, ty + 4, tv.toFixed(dec) + (o.yUnit || ""), "chart-tick", "end");
    }
    var lab = text(svg, 0, 0, o.yLabel, "chart-axis-label");
    lab.setAttribute("transform", "translate(12 " + (T + ph / 2) + ") rotate(-90)");
    var band = pw / Math.max(n, 1), bw = Math.min(44, band * 0.66);
    var every = n > 16 ? Math.ceil(n / 12) : 1;
    o.labels.forEach(function (lb, i) {
      var g = svgEl("g", {"class": "chart-cat"}, svg);
      title(g, o.titles ? o.titles[i] : lb);
      var x0 = L + i * band;
      svgEl("rect", {x: x0, y: T, width: band, height: ph, "class": "chart-hit"}, g);
      var base = o.yMin;
      (o.stacks[i] || []).forEach(function (seg) {
        if (seg.v === null || seg.v === undefined || seg.v <= 0 && o.yMin === 0) { return; }
        var top = o.stacked ? base + seg.v : seg.v;
        var yTop = y(top), yBase = y(o.stacked ? base : o.yMin);
        var r = svgEl("rect", {x: x0 + (band - bw) / 2, y: yTop, width: bw, height: Math.max(1, yBase - yTop),
                               "class": "chart-bar " + seg.cls}, g);
        title(r, seg.title);
        if (o.stacked) { base = top; }
      });
      if (i % every === 0) { text(svg, x0 + band / 2, H - B + 16, lb, "chart-tick"); }
    });
    if (o.line) {
      var d = "", pen = false;
      o.line.forEach(function (v, i) {
        if (v === null || v === undefined) { pen = false; return; }
        var ly = y(v).toFixed(1), xa = (L + i * band).toFixed(1), xb = (L + (i + 1) * band).toFixed(1);
        d += (pen ? "L" : "M") + xa + " " + ly + "L" + xb + " " + ly;
        pen = true;
      });
      if (d) { title(svgEl("path", {d: d, "class": "chart-target"}, svg), o.lineTitle); }
    }
    svgEl("line", {x1: L, x2: L + pw, y1: T + ph, y2: T + ph, "class": "chart-axis"}, svg);
    return svg;
  }

  // The downtime page: network availability per month against the promised level.
  function availability(node, d) {
    var vals = d.values.filter(function (v) { return v !== null; });
    var lows = vals.concat(d.targets.filter(function (v) { return v !== null; }));
    if (!lows.length) { lows = [99.9]; }
    // The axis starts a little below the lowest figure (a bar from 0 would hide 99.7 against 99.9).
    var lo = Math.min.apply(null, lows), rawMin = lo - Math.max(100 - lo, 0.01) * 0.3;
    var step = niceStep(100 - rawMin, 4);
    var yMin = Math.max(0, Math.floor(rawMin / step + 1e-9) * step);
    bars(node, {
      labels: d.labels, yMin: yMin, yMax: 100, step: step, yLabel: label(node, "y"), yUnit: "",
      titles: d.titles, line: d.targets, lineTitle: label(node, "target"),
      stacks: d.values.map(function (v, i) {
        return [{v: v, cls: d.bad[i] ? "bar-bad" : "bar-ok", title: d.titles[i]}];
      })
    });
    legend(node, [{cls: "sw-ok", text: label(node, "kept")}, {cls: "sw-bad", text: label(node, "breached")},
                  {cls: "sw-target", text: label(node, "target")}]);
  }

  // The breach history: breaches per promise (code) per month, stacked.
  function breaches(node, d) {
    var totals = d.labels.map(function (_, i) {
      return d.series.reduce(function (s, se) { return s + (se.values[i] || 0); }, 0);
    });
    var max = Math.max.apply(null, totals.concat([1]));
    var step = Math.max(1, niceStep(max, 4));
    step = Math.ceil(step);
    var yMax = Math.ceil(max / step) * step;
    bars(node, {
      labels: d.labels, yMin: 0, yMax: yMax, step: step, yLabel: label(node, "y"), stacked: true,
      titles: d.titles,
      stacks: d.labels.map(function (_, i) {
        return d.series.map(function (se, k) {
          return {v: se.values[i], cls: "series-" + (k % 8), title: d.labels[i] + " · " + se.name + ": " + se.values[i]};
        });
      })
    });
    legend(node, d.series.map(function (se, k) { return {cls: "sw-series-" + (k % 8), text: se.name}; }));
    if (!d.series.length) { node.classList.add("chart-empty"); }
  }

  // The month's outages as segments, one lane per kind (network, power).
  function timeline(node, d) {
    var lanes = [label(node, "lane0"), label(node, "lane1")];
    var H = 112, L = 62, R = 14, T = 10, LH = 28, B = 40;
    var pw = W - L - R, span = d.end - d.start;
    var svg = newSvg(node, H);
    function x(t) { return L + (Math.max(d.start, Math.min(d.end, t)) - d.start) / span * pw; }
    lanes.forEach(function (name, k) {
      var ly = T + k * LH;
      svgEl("rect", {x: L, y: ly + 3, width: pw, height: LH - 6, "class": "chart-lane"}, svg);
      text(svg, L - 6, ly + LH / 2 + 4, name, "chart-tick", "end");
    });
    if (d.now > d.start && d.now < d.end) {
      svgEl("rect", {x: x(d.now), y: T, width: L + pw - x(d.now), height: LH * 2, "class": "chart-future"}, svg);
    }
    var days = Math.round(span / 86400);
    for (var k = 0; k <= days; k++) {
      var dx = x(d.start + k * 86400);
      svgEl("line", {x1: dx, x2: dx, y1: T, y2: T + LH * 2 + (k < days ? 4 : 0), "class": k % 7 ? "chart-grid-faint" : "chart-grid"}, svg);
      if (k < days && (k === 0 || (k + 1) % 5 === 0)) {
        text(svg, dx + pw / days / 2, T + LH * 2 + 16, String(k + 1), "chart-tick");
      }
    }
    text(svg, L + pw / 2, H - 6, label(node, "x"), "chart-axis-label");
    d.segments.forEach(function (s) {
      var xa = x(s.s), xb = x(s.e);
      var r = svgEl("rect", {x: xa, y: T + s.lane * LH + 5, width: Math.max(2.5, xb - xa), height: LH - 10,
                             rx: 1.5, "class": "chart-seg seg-" + s.cls}, svg);
      title(r, s.title);
    });
    if (!d.segments.length) {
      text(svg, L + pw / 2, T + LH + 4, label(node, "empty"), "chart-empty-text");
    }
    legend(node, [{cls: "sw-counted", text: label(node, "counted")}, {cls: "sw-planned", text: label(node, "planned")},
                  {cls: "sw-excluded", text: label(node, "excluded")}]);
  }

  // A target's response times per hour (average and slowest successful probe), with uPlot.
  function latency(node, d) {
    if (!window.uPlot) { return; }
    var hasData = d.avg.some(function (v) { return v !== null; });
    if (!hasData) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = label(node, "empty");
      node.appendChild(p);
      return;
    }
    var tz = node.dataset.timeZone || "Asia/Shanghai";
    var unit = label(node, "unit", "ms");
    function fmt(v) { return v === null || v === undefined ? "—" : Math.round(v) + " " + unit; }
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function local(ts) { return window.uPlot.tzDate(new Date(ts * 1000), tz); }
    function hourText(ts) {
      var d = local(ts);
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":00";
    }
    // 24-hour clock, the date under the first tick and under each midnight (no English month names).
    function xTicks(u, splits) {
      return splits.map(function (ts, i) {
        var d = local(ts), hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
        return i === 0 || (d.getHours() === 0 && d.getMinutes() === 0) ?
          hm + "\n" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) : hm;
      });
    }
    var box = document.createElement("div");
    node.appendChild(box);
    var opts = {
      width: Math.max(320, node.clientWidth || W), height: 240,
      tzDate: local,
      scales: {y: {range: function (u, min, max) { return [0, Math.max(10, max * 1.1)]; }}},
      axes: [{label: label(node, "x"), values: xTicks, space: 60},
             {label: label(node, "y"), size: 70, values: function (u, vals) { return vals.map(fmt); }}],
      series: [{label: label(node, "time"), value: function (u, ts) { return ts === null ? "—" : hourText(ts); }},
               {label: label(node, "avg"), stroke: "#1c5d99", width: 2, fill: "rgba(28,93,153,0.10)",
                value: function (u, v) { return fmt(v); }, points: {show: d.t.length <= 48}},
               {label: label(node, "max"), stroke: "#b7791f", width: 1, dash: [4, 3],
                value: function (u, v) { return fmt(v); }, points: {show: false}}]
    };
    var plot = new window.uPlot(opts, [d.t, d.avg, d.max], box);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { plot.setSize({width: Math.max(320, node.clientWidth || W), height: 240}); }, 150);
    });
  }

  var KINDS = {availability: availability, breaches: breaches, timeline: timeline, latency: latency};

  function init() {
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var draw = KINDS[node.dataset.chart], d = readData(node);
      if (!draw || !d) { return; }
      draw(node, d);
      node.classList.add("chart-drawn");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
