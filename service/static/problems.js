// The descent demos (the lessons' live in lessons.js): each learns from the data set in its
// model card, which the endpoint's GET shows and a POST without x and y uses, and each draws
// the parameters the endpoint returns. Nothing here takes a gradient.

import { getJson, postJson } from "./api.js";
import { t } from "./i18n.js";
import { LESSONS } from "./lessons.js";
import { Frame, formatNumber } from "./plot.js";

const TRAIL = 12; // earlier lines/boundaries kept, fading, so the motion is visible

export function flat(tensor) {
  return [tensor].flat(Infinity).map((v) => (v === null ? NaN : Number(v)));
}

function cardOf(answer) {
  return answer.card ?? answer;
}

const linearRegression = {
  name: "linear-regression",
  get note() {
    return t("problem.linear.note");
  },
  defaults: { lr: 0.1, steps: 1 },
  weights: true,
  async prepare(about) {
    this.data = about.data; // the card's data set: the page sends none, the endpoint uses it
    const card = cardOf(await getJson("/v1/models/linear-regression"));
    const pre = card.preprocessing ?? {};
    this.mu = Number(pre.mean?.[0] ?? 0);
    this.sigma = Number(pre.std?.[0] ?? 1);
  },
  body() {
    return {};
  },
  rawLine(params) {
    const w = flat(params["linear.weight"])[0];
    const b = flat(params["linear.bias"])[0];
    return { slope: w / this.sigma, intercept: b - (w * this.mu) / this.sigma };
  },
  draw(canvas, history) {
    const frame = new Frame(canvas, [40, 68], [140, 185]);
    frame.clear();
    frame.axes(t("axis.weight"), t("axis.height"));
    history.slice(-TRAIL).forEach((params, i, shown) => {
      const { slope, intercept } = this.rawLine(params);
      const last = i === shown.length - 1;
      const style = last
        ? { stroke: "#d9480f", width: 3 }
        : { stroke: `rgba(217, 72, 15, ${0.08 + (0.3 * i) / shown.length})`, width: 1.5 };
      frame.implicitLine(slope, -1, intercept, style);
    });
    if (this.data) frame.points(this.data.x.map(([x], i) => [x, this.data.y[i]]), { fill: "#2f6fde" });
  },
  describe(params) {
    const { slope, intercept } = this.rawLine(params);
    return [
      ["slope", "cm/kg", slope],
      ["intercept", "cm", intercept],
    ];
  },
  get caption() {
    return t("problem.linear.caption");
  },
};

const logisticRegression = {
  name: "logistic-regression",
  get note() {
    return t("problem.logistic.note");
  },
  defaults: { lr: 0.5, steps: 1 },
  weights: true,
  async prepare(about) {
    this.data = about.data; // the card's training blobs
  },
  body() {
    return {};
  },
  draw(canvas, history) {
    const frame = new Frame(canvas, [-4.5, 4.5], [-4, 4]);
    frame.clear();
    frame.axes("x1", "x2");
    const byClass = (label) => (this.data?.x ?? []).filter((_, i) => this.data.y[i] === label);
    frame.points(byClass(0), { fill: "#2f6fde", radius: 3 });
    frame.points(byClass(1), { fill: "#e8590c", radius: 3 });
    history.slice(-TRAIL).forEach((params, i, shown) => {
      const [w1, w2] = flat(params["linear.weight"]);
      const b = flat(params["linear.bias"])[0];
      const last = i === shown.length - 1;
      const alpha = last ? 1 : 0.08 + (0.3 * i) / shown.length;
      frame.implicitLine(w1, w2, b, { stroke: `rgba(29, 35, 48, ${alpha})`, width: last ? 3 : 1.5 });
    });
  },
  describe(params) {
    const [w1, w2] = flat(params["linear.weight"]);
    return [
      ["w1", "", w1],
      ["w2", "", w2],
      ["b", "", flat(params["linear.bias"])[0]],
    ];
  },
  get caption() {
    return t("problem.logistic.caption");
  },
};

const BOWL_RANGE = [-6, 6];
const BOWL_GRID = 31; // 31 x 31 = 961 points: one /predict call, under the batch cap
const BOWL_LEVEL = 0.5; // f - min of the first contour band's scale

// Cubic convolution (Keys, a = -0.5) through p[0..3] at t in [0, 1] between p[1] and p[2].
function catmullRom(p, t) {
  return p[1] + 0.5 * t * (p[2] - p[0] +
    t * (2 * p[0] - 5 * p[1] + 4 * p[2] - p[3] + t * (3 * (p[1] - p[2]) + p[3] - p[0])));
}

const quadraticBowl = {
  name: "quadratic-bowl",
  get note() {
    return t("problem.bowl.note");
  },
  defaults: { lr: 0.05, steps: 1 },
  async prepare() {
    if (this.grid) return;
    const axis = Array.from({ length: BOWL_GRID }, (_, i) =>
      BOWL_RANGE[0] + (i * (BOWL_RANGE[1] - BOWL_RANGE[0])) / (BOWL_GRID - 1));
    const instances = axis.flatMap((y) => axis.map((x) => [x, y]));
    const answer = await postJson("/v1/models/quadratic-bowl/predict", { instances });
    this.grid = { axis, values: answer.predictions.map((p) => flat(p)[0]) };
    this.background = null;
  },
  body() {
    return {};
  },
  valueAt(x, y) {
    // Catmull-Rom bicubic interpolation between the served grid values (plotting, not
    // modelling); it reproduces a quadratic exactly, so the contours come out smooth.
    const { axis, values } = this.grid;
    const step = axis[1] - axis[0];
    const fx = (x - axis[0]) / step;
    const fy = (y - axis[0]) / step;
    const i = Math.floor(fx);
    const j = Math.floor(fy);
    const clamp = (k) => Math.max(0, Math.min(BOWL_GRID - 1, k));
    const row = (b) => catmullRom(
      [-1, 0, 1, 2].map((d) => values[clamp(b) * BOWL_GRID + clamp(i + d)]), fx - i);
    return catmullRom([-1, 0, 1, 2].map((d) => row(j + d)), fy - j);
  },
  drawBackground(canvas) {
    const frame = new Frame(canvas, BOWL_RANGE, BOWL_RANGE);
    frame.clear();
    const lo = Math.min(...this.grid.values);
    const hi = Math.max(...this.grid.values);
    // Log-spaced levels above the minimum: dense near the valley floor, sparse on the walls.
    const scale = Math.log1p((hi - lo) / BOWL_LEVEL);
    frame.bands((x, y) => Math.log1p(Math.max(0, this.valueAt(x, y) - lo) / BOWL_LEVEL) / scale, 16);
    frame.axes("x", "y");
    this.background = frame.ctx.getImageData(0, 0, canvas.width, canvas.height);
  },
  draw(canvas, history) {
    if (!this.background) this.drawBackground(canvas);
    canvas.getContext("2d").putImageData(this.background, 0, 0);
    const frame = new Frame(canvas, BOWL_RANGE, BOWL_RANGE);
    const path = history.map((params) => flat(params.point));
    frame.polyline(path, { stroke: "#d9480f", width: 2 });
    frame.points(path.slice(0, -1), { fill: "#d9480f", radius: 2.5, stroke: "#d9480f" });
    frame.points(path.slice(-1), { fill: "#d9480f", radius: 6 });
  },
  describe(params) {
    const [x, y] = flat(params.point);
    return [
      ["x", "", x],
      ["y", "", y],
    ];
  },
  get caption() {
    return t("problem.bowl.caption");
  },
};

export const PROBLEMS = Object.fromEntries(
  [linearRegression, logisticRegression, quadraticBowl, ...LESSONS].map((p) => [p.name, p]),
);

export function describeText(rows) {
  return rows.map(([name, unit, v]) => `${name} = ${formatNumber(v, 5)}${unit ? ` ${unit}` : ""}`);
}
