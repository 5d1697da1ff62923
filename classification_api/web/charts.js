// SVG charts built with the DOM (no inline style, so the page's
// Content-Security-Policy holds): a waterfall, horizontal bars with
// thresholds, and columns with an optional line. Colours come from app.css
// classes. Every chart is an image with a text alternative.

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function frame(width, height, label) {
  // drawn at its own size at most, so that its text stays at 12 px on wide screens
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, class: "chart", role: "img", "aria-label": label });
  root.append(svg("title", {}, label));
  return root;
}

export const fmt = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
export const signed = (x, digits = 2) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits);
export const percent = (x, digits = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "–");
export const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** A chart's width in its own units: about the screen's, so that its 12-unit text reads at 12 px on phones too. */
function chartWidth() {
  return Math.round(Math.min(640, Math.max(340, (window.innerWidth || 640) - 48)));
}

/** A linear scale from [d0, d1] to [r0, r1]. */
function scale(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

/** Tick values between lo and hi, about `n` of them, at round steps. */
function ticks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}

/**
 * The waterfall of one explanation: the baseline (intercept), then each
 * feature's contribution (largest first), then the total log-odds. Steps is
 * [{label, value}], baseline and total are log-odds.
 */
export function waterfall(baseline, steps, label) {
  const rows = [{ label: "baseline (intercept)", value: baseline, kind: "base", from: 0, to: baseline }];
  let at = baseline;
  for (const s of steps) {
    rows.push({ feature: s.feature, label: s.label, value: s.value, kind: s.value >= 0 ? "up" : "down", from: at, to: at + s.value });
    at += s.value;
  }
  rows.push({ label: "log-odds of survival", value: at, kind: "total", from: 0, to: at });
  const ends = rows.flatMap((r) => [r.from, r.to]);
  const lo = Math.min(0, ...ends);
  const hi = Math.max(0, ...ends);
  const pad = (hi - lo) * 0.05 || 1;
  const W = chartWidth(), left = W < 500 ? 140 : 190, right = 56, rowH = 26, top = 8, axisH = 26;
  const H = top + rows.length * rowH + axisH;
  const x = scale(lo - pad, hi + pad, left, W - right);
  const root = frame(W, H, label);
  for (const t of ticks(lo - pad, hi + pad)) {
    root.append(svg("line", { x1: x(t), x2: x(t), y1: top, y2: H - axisH, class: t === 0 ? "axis" : "grid" }));
    root.append(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle" }, fmt(t, 1)));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    root.append(svg("text", { x: left - 6, y: y + rowH / 2 + 4, "text-anchor": "end" }, r.label));
    if (r.value == null) {
      root.append(svg("text", { x: x(0) + 4, y: y + rowH / 2 + 4, "text-anchor": "start", class: "missing" }, "–"));
      return;
    }
    const [a, b] = [Math.min(r.from, r.to), Math.max(r.from, r.to)];
    const bar = svg("rect", {
      x: x(a), y: y + 4, width: Math.max(1, x(b) - x(a)), height: rowH - 8, class: r.kind,
      "data-feature": r.feature ?? r.kind, "data-value": r.value,
    });
    bar.append(svg("title", {}, `${r.label}: ${signed(r.value, 3)}`));
    root.append(bar);
    if (i > 0 && r.kind !== "total") {
      root.append(svg("line", { x1: x(r.from), x2: x(r.from), y1: y - 4, y2: y + 4, class: "connector" }));
    }
    root.append(svg("text", { x: left - 6, y: y + rowH / 2 + 4, "text-anchor": "end" }, r.label));
    const text = r.kind === "up" || r.kind === "down" ? signed(r.value) : fmt(r.value, 2);
    root.append(svg("text", { x: x(b) + 4, y: y + rowH / 2 + 4 }, text));
  });
  return root;
}

/**
 * Horizontal bars: rows [{label, value, kind}] with optional vertical
 * threshold lines [{value, label, kind}]. Values may be negative; a null
 * value (not known) draws no bar and reads "–".
 */
export function hbars(rows, label, { thresholds = [], digits = 3, min } = {}) {
  const values = rows.filter((r) => r.value != null).map((r) => r.value).concat(thresholds.map((t) => t.value));
  // room beside the longest bars for their values
  const lo = min ?? Math.min(0, ...values) * 1.2;
  const hi = Math.max(0, ...values) * 1.12 || 1;
  const W = chartWidth(), left = W < 500 ? 120 : 170, right = 50, rowH = 24, top = thresholds.length ? 20 : 6, axisH = 24;
  const H = top + rows.length * rowH + axisH;
  const x = scale(lo, hi, left, W - right);
  const root = frame(W, H, label);
  for (const t of ticks(lo, hi)) {
    root.append(svg("line", { x1: x(t), x2: x(t), y1: top, y2: H - axisH, class: t === 0 ? "axis" : "grid" }));
    root.append(svg("text", { x: x(t), y: H - 6, "text-anchor": "middle" }, fmt(t, 2)));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    root.append(svg("text", { x: left - 6, y: y + rowH / 2 + 4, "text-anchor": "end" }, r.label));
    if (r.value == null) {
      root.append(svg("text", { x: x(0) + 4, y: y + rowH / 2 + 4, "text-anchor": "start", class: "missing" }, "–"));
      return;
    }
    const [a, b] = [Math.min(0, r.value), Math.max(0, r.value)];
    const bar = svg("rect", { x: x(a), y: y + 4, width: Math.max(1, x(b) - x(a)), height: rowH - 8, class: `bar ${r.kind || ""}` });
    bar.append(svg("title", {}, `${r.label}: ${fmt(r.value, digits)}`));
    root.append(bar);
    const tx = r.value >= 0 ? x(b) + 4 : x(a) - 4;
    root.append(svg("text", { x: tx, y: y + rowH / 2 + 4, "text-anchor": r.value >= 0 ? "start" : "end" }, fmt(r.value, digits)));
  });
  for (const t of thresholds) {
    root.append(svg("line", { x1: x(t.value), x2: x(t.value), y1: top - 4, y2: H - axisH, class: `threshold ${t.kind || ""}` }));
    root.append(svg("text", { x: x(t.value), y: top - 8, "text-anchor": "middle" }, t.label));
  }
  return root;
}

/**
 * Columns: bins [{label, value}] on a zero-based axis, with an optional
 * line of shares in [0, 1] (drawn against a right-hand axis; null leaves a gap).
 */
export function columns(bins, label, { line, lineLabel } = {}) {
  const W = chartWidth(), H = 240, left = 48, right = line ? 48 : 12, top = 12, bottom = 40;
  const hi = Math.max(1, ...bins.map((b) => b.value));
  const y = scale(0, hi * 1.05, H - bottom, top);
  const yShare = scale(0, 1, H - bottom, top);
  const slot = (W - left - right) / Math.max(1, bins.length);
  const root = frame(W, H, label);
  for (const t of ticks(0, hi * 1.05, 4)) {
    root.append(svg("line", { x1: left, x2: W - right, y1: y(t), y2: y(t), class: t === 0 ? "axis" : "grid" }));
    root.append(svg("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end" }, String(t)));
  }
  const every = Math.ceil(bins.length / Math.max(2, Math.floor((W - left - right) / 64)));
  bins.forEach((b, i) => {
    const x0 = left + i * slot;
    const bar = svg("rect", { x: x0 + slot * 0.1, y: y(b.value), width: slot * 0.8, height: Math.max(0, y(0) - y(b.value)), class: "bar" });
    bar.append(svg("title", {}, `${b.label}: ${b.value}`));
    root.append(bar);
    if (i % every === 0) root.append(svg("text", { x: x0 + slot / 2, y: H - bottom + 16, "text-anchor": "middle" }, b.short ?? b.label));
  });
  if (line) {
    for (const t of [0, 0.5, 1]) {
      root.append(svg("text", { x: W - right + 6, y: yShare(t) + 4 }, percent(t, 0)));
    }
    // one polyline per run of values (null is a gap)
    let run = [];
    const flush = () => {
      if (run.length > 1) root.append(svg("polyline", { points: run.join(" "), class: "line" }));
      run = [];
    };
    line.forEach((v, i) => (v === null ? flush() : run.push(`${left + (i + 0.5) * slot},${yShare(v)}`)));
    flush();
    line.forEach((v, i) => {
      if (v === null) return;
      const dot = svg("circle", { cx: left + (i + 0.5) * slot, cy: yShare(v), r: 3, class: "dot" });
      dot.append(svg("title", {}, `${bins[i].label}: ${lineLabel} ${percent(v)}`));
      root.append(dot);
    });
  }
  return root;
}

/** A probability as a horizontal gauge. */
export function gauge(p, positive) {
  const outer = document.createElement("div");
  outer.className = "gauge";
  outer.setAttribute("role", "meter");
  outer.setAttribute("aria-valuemin", "0");
  outer.setAttribute("aria-valuemax", "1");
  outer.setAttribute("aria-valuenow", String(p));
  outer.setAttribute("aria-label", "Probability of survival");
  const fill = document.createElement("div");
  fill.className = `fill ${positive ? "positive" : "negative"}`;
  fill.style.width = `${(100 * p).toFixed(2)}%`; // CSSOM, which the policy allows
  outer.append(fill);
  return outer;
}

/** A legend: [[swatch class, text]]. */
export function legend(items) {
  const p = document.createElement("p");
  p.className = "legend";
  for (const [cls, text] of items) {
    const s = document.createElement("span");
    const sw = document.createElement("span");
    sw.className = `swatch ${cls}`;
    sw.setAttribute("aria-hidden", "true");
    s.append(sw, text);
    p.append(s);
  }
  return p;
}
