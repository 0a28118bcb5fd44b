// Activation functions beside their derivatives, and softmax with a temperature: every curve
// and bar is a served number (`activations` on a grid of z, `softmax-temperature` on the
// learner's scores); the page only draws them.

import { clearError, showError } from "./api.js";
import { t } from "./i18n.js";
import { Frame, formatNumber } from "./plot.js";
import { infer } from "./v2.js";

const GRID = Array.from({ length: 121 }, (_, i) => -6 + i * 0.1);
const PANELS = [
  ["sigmoid", "sigmoid_grad", [-0.1, 1.1]],
  ["tanh", "tanh_grad", [-1.1, 1.1]],
  ["relu", "relu_grad", [-0.5, 6]],
];

export function setupActivations() {
  const el = (id) => document.getElementById(id);
  const ui = {
    canvases: PANELS.map(([name]) => el(`act-${name}`)), error: el("act-error"),
    scores: el("softmax-scores"), temperature: el("softmax-t"), tText: el("softmax-t-value"),
    bars: el("softmax-bars"), softError: el("softmax-error"),
  };
  const state = { curves: null, ticket: 0 };
  window.addEventListener("langchange", () => state.curves && drawPanels(ui, state.curves));
  plotActivations(ui, state);
  const refresh = () => askSoftmax(ui, state);
  ui.scores.addEventListener("input", refresh);
  ui.temperature.addEventListener("input", refresh);
  refresh();
}

async function plotActivations(ui, state) {
  try {
    const rows = GRID.map((z) => [Number(z.toFixed(1))]);
    const out = await infer("activations", [{ name: "z", datatype: "FP32", rows }]);
    clearError(ui.error);
    state.curves = { z: rows.map(([z]) => z), out };
    drawPanels(ui, state.curves);
  } catch (err) {
    showError(ui.error, err);
  }
}

function drawPanels(ui, { z, out }) {
  PANELS.forEach(([name, grad, yRange], i) => {
    const canvas = ui.canvases[i];
    const frame = new Frame(canvas, [-6, 6], yRange);
    frame.clear();
    frame.axes("z", "", { x: String, y: (v) => formatNumber(v, 2) });
    frame.polyline(z.map((x, k) => [x, out[name][k][0]]), { stroke: "#2f6fde", width: 2.5 });
    frame.polyline(z.map((x, k) => [x, out[grad][k][0]]), { stroke: "#d9480f", width: 2, dash: [6, 4] });
    const peak = Math.max(...out[grad].map(([v]) => v));
    canvas.dataset.peakGrad = String(peak);
    canvas.dataset.points = String(z.length);
    const ctx = frame.ctx;
    ctx.font = '13px system-ui, "DejaVu Sans", sans-serif';
    ctx.textAlign = "left";
    ctx.fillStyle = "#2f6fde";
    ctx.fillText(name, 76, 28);
    ctx.fillStyle = "#d9480f";
    ctx.fillText(t("act.derivative", { name, peak: formatNumber(peak, 3) }), 76, 46);
  });
}

function parseScores(text) {
  return text.split(/[\s,]+/).filter(Boolean).map(Number);
}

async function askSoftmax(ui, state) {
  const scores = parseScores(ui.scores.value);
  const temperature = 10 ** Number(ui.temperature.value);
  ui.tText.textContent = `T = ${formatNumber(temperature, 3)}`;
  const ticket = ++state.ticket;
  try {
    const out = await infer("softmax-temperature", [
      { name: "scores", datatype: "FP32", rows: [scores] },
      { name: "temperature", datatype: "FP32", rows: [[temperature]] },
    ]);
    if (ticket !== state.ticket) return;
    clearError(ui.softError);
    drawBars(ui.bars, scores, out.softmax[0]);
  } catch (err) {
    if (ticket === state.ticket) showError(ui.softError, err);
  }
}

function drawBars(list, scores, probabilities) {
  list.dataset.probabilities = JSON.stringify(probabilities);
  list.replaceChildren(...probabilities.map((p, i) => {
    const item = document.createElement("li");
    item.innerHTML = '<span class="score"></span><span class="track"><span class="fill"></span></span><span class="pct"></span>';
    item.querySelector(".score").textContent = formatNumber(scores[i], 3);
    item.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    item.querySelector(".pct").textContent = `${(100 * p).toFixed(1)}%`;
    return item;
  }));
}
