// The live loss curve: every loss the endpoint returned, one per step, on a log scale.

import { Frame, formatNumber } from "./plot.js";

export function drawLoss(canvas, losses, diverged) {
  const finite = losses.filter((v) => Number.isFinite(v) && v > 0);
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
  frame.axes("step", "loss", { x: String, y: powerOfTen });
  const curve = losses.map((v, i) => [i, v > 0 ? Math.log10(v) : NaN]);
  frame.polyline(curve.filter(([, v]) => Number.isFinite(v)), { stroke: "#2f6fde", width: 2 });
  if (diverged) {
    const ctx = frame.ctx;
    ctx.fillStyle = "#b3261e";
    ctx.font = 'bold 14px system-ui, "DejaVu Sans", sans-serif';
    ctx.textAlign = "center";
    ctx.fillText("diverged", frame.left + frame.width / 2, frame.top + 20);
  }
}

// Tick labels of the log axis: 1e+12 rather than 1.0e+12 once the numbers get long.
function powerOfTen(t) {
  return Number.isInteger(t) && Math.abs(t) >= 5 ? `1e${t > 0 ? "+" : ""}${t}` : formatNumber(10 ** t, 2);
}
