// The computation graph J(a, b, c) = 3(a + bc) drawn node by node: forward values from the
// served `computation-graph` model flow left to right, its derivatives right to left. Also
// the nudge: J at a + 0.001 (and b + 0.001, c + 0.001), served, beside dJ/da (dJ/db, dJ/dc).

import { clearError, showError } from "./api.js";
import { t } from "./i18n.js";
import { formatNumber } from "./plot.js";
import { infer } from "./v2.js";

const MODEL = "computation-graph";
const NUDGE = 0.001;
// Node positions on a 760 x 300 canvas; edges point from an input to the node it feeds.
const NODES = {
  a: [70, 60], b: [70, 160], c: [70, 250], u: [300, 205], v: [500, 120], J: [690, 120],
};
const EDGES = [["b", "u"], ["c", "u"], ["a", "v"], ["u", "v"], ["v", "J"]];
const LABELS = { u: "u = bc", v: "v = a + u", J: "J = 3v" };

export function setupGraph() {
  const el = (id) => document.getElementById(id);
  const ui = {
    inputs: ["a", "b", "c"].map((k) => el(`graph-${k}`)),
    canvas: el("graph-canvas"), nudges: el("graph-nudges"), error: el("graph-error"),
  };
  const state = { ticket: 0, last: null };
  const refresh = () => ask(ui, state);
  ui.inputs.forEach((input) => input.addEventListener("input", refresh));
  window.addEventListener("langchange", () => state.last && show(ui, ...state.last));
  refresh();
}

async function ask(ui, state) {
  const abc = ui.inputs.map((input) => Number(input.value));
  const ticket = ++state.ticket;
  // Row 0: the point; rows 1-3: a, b, c nudged by NUDGE (the page adds the nudge, the model
  // computes J there).
  const rows = [abc, ...[0, 1, 2].map((k) => abc.map((x, i) => (i === k ? x + NUDGE : x)))];
  try {
    const out = await infer(MODEL, [{ name: "input", datatype: "FP32", rows }]);
    if (ticket !== state.ticket) return;
    clearError(ui.error);
    state.last = [abc, out];
    show(ui, abc, out);
  } catch (err) {
    if (ticket === state.ticket) showError(ui.error, err);
  }
}

function show(ui, abc, out) {
  const at = (name) => out[name][0][0];
  const values = { a: abc[0], b: abc[1], c: abc[2], u: at("u"), v: at("v"), J: at("J") };
  const grads = { J: 1, v: at("dJ_dv"), u: at("dJ_du"), a: at("dJ_da"), b: at("dJ_db"), c: at("dJ_dc") };
  draw(ui.canvas, values, grads);
  ui.canvas.dataset.values = JSON.stringify(values);
  ui.canvas.dataset.grads = JSON.stringify(grads);
  ui.nudges.replaceChildren(...["a", "b", "c"].map((name, k) => {
    const item = document.createElement("li");
    item.dataset.input = name;
    item.dataset.moved = String(out.J[k + 1][0] - out.J[0][0]);
    item.dataset.slope = String(grads[name]);
    item.textContent = t("graph.nudge", {
      name, nudge: NUDGE, from: formatNumber(out.J[0][0], 6), to: formatNumber(out.J[k + 1][0], 6),
      moved: (out.J[k + 1][0] - out.J[0][0]).toFixed(4), slope: formatNumber(grads[name], 6),
    });
    return item;
  }));
}

function draw(canvas, values, grads) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = '14px system-ui, "DejaVu Sans", sans-serif';
  for (const [from, to] of EDGES) edge(ctx, NODES[from], NODES[to]);
  for (const [name, [x, y]] of Object.entries(NODES)) {
    ctx.fillStyle = "#f4f6fa";
    ctx.strokeStyle = "#5c6577";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.roundRect(x - 52, y - 20, 104, 40, 8);
    ctx.fill();
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#1d2330";
    ctx.fillText(LABELS[name] ?? name, x, y);
    ctx.fillStyle = "#2f6fde"; // forward value, above the node
    ctx.fillText(`${name} = ${formatNumber(values[name], 6)}`, x, y - 32);
    ctx.fillStyle = "#d9480f"; // derivative, below the node
    ctx.fillText(`dJ/d${name} = ${formatNumber(grads[name], 6)}`, x, y + 34);
  }
  legend(ctx, canvas);
}

// Blue arrow forward along the edge, orange arrow backward just beneath it.
function edge(ctx, [x0, y0], [x1, y1]) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  const [ux, uy] = [(x1 - x0) / len, (y1 - y0) / len];
  const [sx, sy, ex, ey] = [x0 + 56 * ux, y0 + 24 * uy, x1 - 56 * ux, y1 - 24 * uy];
  arrow(ctx, [sx, sy], [ex, ey], "#2f6fde");
  arrow(ctx, [ex - 7 * uy, ey + 7 * ux], [sx - 7 * uy, sy + 7 * ux], "#d9480f", [5, 4]);
}

function arrow(ctx, [x0, y0], [x1, y1], colour, dash = []) {
  const angle = Math.atan2(y1 - y0, x1 - x0);
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 9 * Math.cos(angle - 0.4), y1 - 9 * Math.sin(angle - 0.4));
  ctx.lineTo(x1 - 9 * Math.cos(angle + 0.4), y1 - 9 * Math.sin(angle + 0.4));
  ctx.fill();
}

function legend(ctx, canvas) {
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillStyle = "#2f6fde";
  ctx.fillText(t("graph.forward"), 190, canvas.height - 12);
  ctx.fillStyle = "#d9480f";
  ctx.fillText(t("graph.backward"), 450, canvas.height - 12);
}
