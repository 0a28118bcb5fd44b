// The live loss curve: every loss the endpoint returned, one per step, on a log scale (a
// linear one when a loss reaches zero or below), the validation loss beside it in orange.

import { Frame, formatNumber } from "./plot.js";

// validation: the held-out loss per step, drawn beside the training loss when there is one.
export function drawLoss(canvas, losses, diverged, validation = []) {
  const all = [...losses, ...validation].filter(Number.isFinite);
  if (all.some((v) => v <= 0)) return drawLinear(canvas, losses, all, diverged); // two-minima's f < 0
  const finite = all;
  const steps = Math.max(10, losses.length);
  const logs = finite.map(Math.log10);
  let lo = finite.length ? Math.min(...logs) : -1;
  let hi = finite.length ? Math.max(...logs) : 1;
  if (hi - lo < 0.5) {
    lo -= 0.25;
    hi += 0.25;
  }
  const pad = 0.05 * (hi - lo);
  const frame = new Frame(canvas, [0, steps], [lo - pad, hi + pad]);
  frame.clear();
  frame.axes("step", "loss", { x: String, y: powerOfTen, yTicks: logTicks(lo - pad, hi + pad) });
  const curve = losses.map((v, i) => [i, v > 0 ? Math.log10(v) : NaN]);
  frame.polyline(curve.filter(([, v]) => Number.isFinite(v)), { stroke: "#2f6fde", width: 2 });
  if (validation.length > 0) {
    const held = validation.map((v, i) => [i, v > 0 ? Math.log10(v) : NaN]);
    frame.polyline(held.filter(([, v]) => Number.isFinite(v)), { stroke: "#e8590c", width: 2 });
  }
  if (diverged) markDiverged(frame);
}

// A loss that goes to or below zero (a function's value) gets a linear axis: no log of it.
function drawLinear(canvas, losses, finite, diverged) {
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = 0.05 * (hi - lo);
  const frame = new Frame(canvas, [0, Math.max(10, losses.length)], [lo - pad, hi + pad]);
  frame.clear();
  frame.axes("step", "loss", { x: String, y: (t) => formatNumber(t, 3) });
  const curve = losses.map((v, i) => [i, v]).filter(([, v]) => Number.isFinite(v));
  frame.polyline(curve, { stroke: "#2f6fde", width: 2 });
  if (diverged) markDiverged(frame);
}

function markDiverged(frame) {
  const ctx = frame.ctx;
  ctx.fillStyle = "#b3261e";
  ctx.font = 'bold 14px system-ui, "DejaVu Sans", sans-serif';
  ctx.textAlign = "center";
  ctx.fillText("diverged", frame.left + frame.width / 2, frame.top + 20);
}

// Tick labels of the log axis: 1e+12 rather than 1.0e+12 once the numbers get long.
function powerOfTen(t) {
  return Number.isInteger(t) && Math.abs(t) >= 5 ? `1e${t > 0 ? "+" : ""}${t}` : formatNumber(10 ** t, 2);
}

// Log-axis ticks (in log10 units) at 1, 2, 5 x 10^k, or only at powers of ten over many decades.
function logTicks(lo, hi) {
  const span = hi - lo;
  const mantissas = span > 3 ? [1] : span > 1 ? [1, 2, 5] : [1, 1.5, 2, 3, 5, 7];
  const ticks = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of mantissas) {
      const t = k + Math.log10(m);
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  const every = Math.ceil(ticks.length / 7); // at most about 7 labels
  return ticks.filter((_, i) => i % every === 0);
}
