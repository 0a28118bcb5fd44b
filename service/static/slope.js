// A derivative as the slope a tiny nudge reveals, from the served `derivative` model (FP64):
// the curve f, the secant through (a, f(a)) and (a + h, f(a + h)) and the tangent of the exact
// slope; then the estimate at h = 10^-1 ... 10^-15, closing on the slope until float rounding
// takes over. The page draws; f, f(a + h), the estimate and the slope are served.

import { clearError, showError } from "./api.js";
import { t } from "./i18n.js";
import { Frame, formatNumber } from "./plot.js";
import { infer } from "./v2.js";

const MODEL = "derivative";
const CURVE_POINTS = 81;
const POWERS = Array.from({ length: 15 }, (_, i) => -(i + 1)); // h = 1e-1 ... 1e-15

export function setupSlope() {
  const el = (id) => document.getElementById(id);
  const ui = {
    fn: el("slope-fn"), a: el("slope-a"), power: el("slope-h"), hText: el("slope-h-value"),
    curve: el("slope-curve"), errors: el("slope-errors"), readout: el("slope-readout"),
    error: el("slope-error"),
  };
  const state = { ticket: 0, last: null };
  const refresh = () => ask(ui, state);
  for (const input of [ui.fn, ui.a, ui.power]) input.addEventListener("input", refresh);
  window.addEventListener("langchange", () => state.last && show(ui, state.last));
  refresh();
}

function rowsFor(a, h, span) {
  const curve = Array.from({ length: CURVE_POINTS }, (_, i) => {
    const x = a - span + (2 * span * i) / (CURVE_POINTS - 1);
    return [x, h];
  });
  return [[a, h], ...POWERS.map((p) => [a, 10 ** p]), ...curve];
}

async function ask(ui, state) {
  const k = Number(ui.fn.value);
  const a = Number(ui.a.value);
  const h = 10 ** Number(ui.power.value);
  ui.hText.textContent = `h = ${h.toExponential(0)}`;
  const span = Math.max(1, 1.2 * Math.abs(h));
  const ticket = ++state.ticket;
  try {
    const out = await infer(MODEL, [{ name: "input", datatype: "FP64", rows: rowsFor(a, h, span) }]);
    if (ticket !== state.ticket) return;
    clearError(ui.error);
    state.last = { k, a, h, span, out };
    show(ui, state.last);
  } catch (err) {
    if (ticket === state.ticket) showError(ui.error, err);
  }
}

function show(ui, { k, a, h, span, out }) {
  const col = (name, row) => out[name][row][k];
  const here = { f: col("f", 0), fh: col("f_plus_h", 0), estimate: col("slope_estimate", 0), slope: col("slope", 0) };
  Object.assign(ui.readout.dataset, {
    estimate: String(here.estimate), slope: String(here.slope), h: String(h),
  });
  ui.readout.textContent = t("slope.readout", {
    a, h: h.toExponential(0), f: formatNumber(here.f, 10), fh: formatNumber(here.fh, 10),
    estimate: formatNumber(here.estimate, 10), slope: formatNumber(here.slope, 10),
  });
  const first = 1 + POWERS.length;
  const curve = out.f.slice(first).map((row, i) => [a - span + (2 * span * i) / (CURVE_POINTS - 1), row[k]]);
  drawCurve(ui.curve, curve, a, h, here);
  const errors = POWERS.map((p, i) => [p, col("slope_estimate", 1 + i) - col("slope", 1 + i)]);
  ui.errors.dataset.errors = JSON.stringify(errors.map(([p, e]) => [10 ** p, e]));
  drawErrors(ui.errors, errors, Math.log10(h));
}

function drawCurve(canvas, curve, a, h, here) {
  const ys = curve.map(([, y]) => y).filter(Number.isFinite);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const pad = 0.08 * (hi - lo || 1);
  const frame = new Frame(canvas, [curve[0][0], curve.at(-1)[0]], [lo - pad, hi + pad]);
  frame.clear();
  frame.axes("a", "f(a)", { x: (v) => formatNumber(v, 3), y: (v) => formatNumber(v, 3) });
  frame.polyline(curve, { stroke: "#1d2330", width: 2 });
  // Lines through (a, f(a)) with the served slopes: y - f(a) = m (x - a).
  frame.implicitLine(here.slope, -1, here.f - here.slope * a, { stroke: "#2f6fde", width: 2 });
  frame.implicitLine(here.estimate, -1, here.f - here.estimate * a, { stroke: "#d9480f", width: 2, dash: [6, 4] });
  frame.points([[a, here.f], [a + h, here.fh]], { fill: "#d9480f", radius: 4 });
  key(frame.ctx, canvas, [[t("slope.tangent"), "#2f6fde"], [t("slope.secant"), "#d9480f"]]);
}

// |estimate - slope| against h on log-log axes: truncation error falls with h, rounding
// error (about eps |f| / h) rises; their sum is a V.
function drawErrors(canvas, errors, current) {
  const logs = errors.map(([p, e]) => [p, Math.log10(Math.max(Math.abs(e), 1e-17))]);
  const ys = logs.map(([, y]) => y);
  const frame = new Frame(canvas, [-15.5, -0.5], [Math.min(...ys) - 0.5, Math.max(...ys) + 0.5]);
  frame.clear();
  const power = (v) => `1e${Math.round(v)}`;
  frame.axes(t("slope.hAxis"), t("slope.errAxis"), { x: power, y: power });
  frame.polyline(logs, { stroke: "#5c6577", width: 1.5 });
  frame.points(logs, { fill: "#2f6fde", radius: 4 });
  frame.points(logs.filter(([p]) => p === Math.round(current)), { fill: "#d9480f", radius: 7 });
}

function key(ctx, canvas, entries) {
  ctx.font = '12px system-ui, "DejaVu Sans", sans-serif';
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  entries.forEach(([text, colour], i) => {
    ctx.fillStyle = colour;
    ctx.fillRect(80, 26 + 18 * i, 18, 3);
    ctx.fillText(text, 104, 27 + 18 * i);
  });
}
