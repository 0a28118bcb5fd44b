// The lessons' descent demos: tiny-mlp, polynomial-fit and two-minima. Each learns from the
// data set in its model card (the endpoint's GET shows it, a POST without x and y uses it),
// and every curve, surface and boundary drawn here is a served number: the step graph's
// predictions at probe rows, or model.onnx evaluated through /predict. Nothing here takes a
// gradient or evaluates a model.

import { postJson } from "./api.js";
import { register, t } from "./i18n.js";
import { Frame } from "./plot.js";

register({
  "problem.tiny": { en: "tiny-mlp (backprop through sigmoid units, XOR)",
    zh: "tiny-mlp (sigmoid 单元的反向传播, 异或)" },
  "problem.polyfit": { en: "polynomial-fit (over-fitting and L2)",
    zh: "polynomial-fit (过拟合与 L2 正则化)" },
  "problem.minima": { en: "two-minima (where you start matters)",
    zh: "two-minima (起点决定终点)" },
  "tiny.note": {
    en: "XOR-like points that no straight line separates; 2 inputs, 4 sigmoid hidden units, " +
      "a sigmoid output, binary cross-entropy. The background is the network's P(class 1) on " +
      "a grid, computed by the step graph at the current parameters; the dashed lines are " +
      "each hidden unit's own line w1 x1 + w2 x2 + b = 0. From zeros every hidden unit stays " +
      "identical, so the network is no better than one unit; from a random start they differ.",
    zh: "类似异或的点, 没有一条直线能把它们分开; 2 个输入, 4 个 sigmoid 隐藏单元, 一个 sigmoid " +
      "输出, 二元交叉熵损失函数. 背景是网络在网格上的 P(类别 1), 由梯度步计算图按当前参数算出; " +
      "虚线是每个隐藏单元自己的直线 w1 x1 + w2 x2 + b = 0. 从零初始化时所有隐藏单元始终相同, " +
      "网络不比一个单元强; 随机初始化时它们各不相同.",
  },
  "tiny.caption": { en: "blue: class 0, orange: class 1; shaded: where the network says class 1",
    zh: "蓝: 类别 0, 橙: 类别 1; 底色: 网络判为类别 1 的区域" },
  "tiny.compare": { en: "Logistic regression on these points", zh: "在这些点上做逻辑回归" },
  "tiny.compared": {
    en: "logistic-regression on these points, 1000 steps: loss {loss} (dashed line). No " +
      "straight line separates them.",
    zh: "在这些点上做逻辑回归, 1000 步: 损失 {loss} (虚线). 没有一条直线能把它们分开.",
  },
  "polyfit.note": {
    en: "Eleven noisy training points (filled) and ten held out (hollow); the curve is a " +
      "polynomial of the chosen degree on Legendre features, drawn from the step graph's " +
      "predictions. Degree 1 under-fits, 3 fits, 9 (ten parameters for eleven points) " +
      "over-fits: its training loss falls below degree 3's while its validation loss rises. " +
      "L2 (lambda) tames it.",
    zh: "十一个带噪声的训练点 (实心) 和十个留出的验证点 (空心); 曲线是所选次数的多项式 " +
      "(Legendre 特征), 由梯度步计算图的预测画出. 1 次欠拟合, 3 次刚好, 9 次 (十一个点配十个" +
      "参数) 过拟合: 训练损失低于 3 次, 验证损失却升高. L2 正则化 (lambda) 能抑制它.",
  },
  "polyfit.caption": {
    en: "filled: training points, hollow: validation points; the fitted curve after each call",
    zh: "实心: 训练点, 空心: 验证点; 每次调用后的拟合曲线",
  },
  "minima.note": {
    en: "f(p) = (p^2 - 1)^2 + p/2 has two minima: click the curve to choose where the " +
      "descent starts. From -2 it ends in the lower minimum near -1.06, from +2 in the higher " +
      "one near 0.93: where gradient descent ends depends on where it starts. The curve is " +
      "model.onnx evaluating f on a grid.",
    zh: "f(p) = (p^2 - 1)^2 + p/2 有两个极小值: 点击曲线选择梯度下降的起点. 从 -2 出发到达 " +
      "-1.06 附近较低的极小值, 从 +2 出发到达 0.93 附近较高的那个: 梯度下降停在哪里取决于从哪里" +
      "出发. 曲线是 model.onnx 在网格上计算的 f.",
  },
  "minima.caption": {
    en: "f(p) from the served model, the point after each call (green: the walk before); " +
      "click to start there",
    zh: "服务模型给出的 f(p), 每次调用后的点 (绿色: 上一次的路径); 点击即从该处出发",
  },
  "problem.softmax": { en: "mnist-softmax (ten digits, weights as pictures)",
    zh: "mnist-softmax (十个数字, 权重画成图片)" },
  "softmax.note": {
    en: "Softmax regression on ten MNIST digits from the card, cross-entropy. Each class has " +
      "one weight per pixel: its row of 784 weights is drawn as a 28x28 picture (red: the " +
      "pixel's ink raises that digit's score, blue: lowers it). From zeros the pictures " +
      "grow into rough templates of the digits.",
    zh: "在模型卡中的十个 MNIST 数字上做 softmax 回归, 交叉熵损失函数. 每个类别对每个像素有一个" +
      "权重: 它的 784 个权重画成一张 28x28 的图 (红: 该像素的笔迹提高这个数字的得分, 蓝: 降低). " +
      "从零开始, 这些图慢慢长成数字的粗略模板.",
  },
  "softmax.caption": { en: "the ten weight rows as 28x28 pictures, one per digit",
    zh: "十行权重画成 28x28 的图, 每个数字一张" },
  "minima.start": { en: "Start at p = {p}. Press Step or Run.", zh: "从 p = {p} 出发. 请按 走一步 或 运行." },
});

const TRAIL = 8; // earlier curves kept, fading
const CLASS_COLOURS = ["#2f6fde", "#e8590c"];
const REGION_COLOURS = [[214, 228, 250], [253, 224, 204]]; // P(class 1) < 0.5, >= 0.5

export function flat(tensor) {
  return [tensor].flat(Infinity).map((v) => (v === null ? NaN : Number(v)));
}

function axis(lo, hi, count) {
  return Array.from({ length: count }, (_, i) => lo + (i * (hi - lo)) / (count - 1));
}

// Bilinear interpolation between served grid values (drawing between the probe rows).
function gridValue(grid, values, x, y) {
  const n = grid.length;
  const step = grid[1] - grid[0];
  const fx = Math.max(0, Math.min(n - 1.001, (x - grid[0]) / step));
  const fy = Math.max(0, Math.min(n - 1.001, (y - grid[0]) / step));
  const i = Math.floor(fx);
  const j = Math.floor(fy);
  const at = (a, b) => values[b * n + a];
  const top = at(i, j) + (fx - i) * (at(i + 1, j) - at(i, j));
  const bottom = at(i, j + 1) + (fx - i) * (at(i + 1, j + 1) - at(i, j + 1));
  return top + (fy - j) * (bottom - top);
}

const MLP_RANGE = [-2.4, 2.4];
const MLP_GRID = 32; // 32 x 32 = 1024 probe rows, the endpoint's batch cap

const tinyMlp = {
  name: "tiny-mlp",
  get note() {
    return t("tiny.note");
  },
  defaults: { lr: 2, steps: 25, init: "random" },
  weights: true,
  async prepare(about) {
    this.data = about.data;
    this.grid = axis(...MLP_RANGE, MLP_GRID);
    this.probe = this.grid.flatMap((y) => this.grid.map((x) => [x, y]));
  },
  reset() {
    this.surface = null;
    this.logistic = null;
  },
  body() {
    return { probe: this.probe };
  },
  absorb(answer) {
    if (answer.predictions) this.surface = flat(answer.predictions);
  },
  draw(canvas, history) {
    const frame = new Frame(canvas, MLP_RANGE, MLP_RANGE);
    frame.clear();
    if (this.surface) {
      frame.bands((x, y) => gridValue(this.grid, this.surface, x, y), 2, REGION_COLOURS);
    }
    frame.axes("x1", "x2");
    const last = history.at(-1);
    if (last) this.drawUnits(frame, last);
    if (this.logistic) {
      const [w1, w2] = flat(this.logistic.parameters["linear.weight"]);
      const b = flat(this.logistic.parameters["linear.bias"])[0];
      frame.implicitLine(w1, w2, b, { stroke: "#1d2330", width: 3, dash: [10, 5] });
    }
    if (!this.data) return;
    [0, 1].forEach((label) => {
      const points = this.data.x.filter((_, i) => this.data.y[i] === label);
      frame.points(points, { fill: CLASS_COLOURS[label], radius: 4 });
    });
  },
  drawUnits(frame, params) {
    const w = flat(params["hidden.weight"]);
    const b = flat(params["hidden.bias"]);
    b.forEach((bias, k) => {
      frame.implicitLine(w[2 * k], w[2 * k + 1], bias,
        { stroke: "rgba(60, 70, 90, 0.55)", width: 1.2, dash: [4, 4] });
    });
  },
  describe(params) {
    const w = flat(params["hidden.weight"]);
    const b = flat(params["hidden.bias"]);
    const v = flat(params["output.weight"]);
    const rows = b.flatMap((bias, k) => [
      [`h${k + 1}.w1`, "", w[2 * k]],
      [`h${k + 1}.w2`, "", w[2 * k + 1]],
      [`h${k + 1}.b`, "", bias],
      [`h${k + 1}.out`, "", v[k]],
    ]);
    return [...rows, ["out.b", "", flat(params["output.bias"])[0]]];
  },
  // logistic-regression on these same points, for comparison: its best line and its loss.
  async compare(lr) {
    const body = { x: this.data.x, y: this.data.y, init: "zeros", steps: 1000, learning_rate: lr };
    this.logistic = await postJson("/v1/models/logistic-regression/gradient-step", body);
    return this.logistic;
  },
  get caption() {
    return t("tiny.caption");
  },
};

const POLY_RANGE = [-3.3, 3.3];
const POLY_Y = [-1.2, 2.2];

const polynomialFit = {
  name: "polynomial-fit",
  get note() {
    return t("polyfit.note");
  },
  defaults: { lr: 0.05, steps: 50, init: "zeros" },
  weights: true,
  degree: true,
  async prepare(about) {
    this.data = about.data;
    this.grid = axis(...POLY_RANGE, 133);
    this.probe = this.grid.map((x) => [x]);
  },
  reset() {
    this.curves = [];
  },
  body() {
    return { probe: this.probe };
  },
  absorb(answer) {
    if (answer.predictions) this.curves.push(flat(answer.predictions));
  },
  draw(canvas) {
    const frame = new Frame(canvas, POLY_RANGE, POLY_Y);
    frame.clear();
    frame.axes("x", "y");
    (this.curves ?? []).slice(-TRAIL).forEach((curve, i, shown) => {
      const last = i === shown.length - 1;
      const alpha = last ? 1 : 0.1 + (0.3 * i) / shown.length;
      frame.polyline(this.grid.map((x, k) => [x, curve[k]]),
        { stroke: `rgba(217, 72, 15, ${alpha})`, width: last ? 3 : 1.5 });
    });
    if (!this.data) return;
    const pairs = (xs, ys) => xs.map((row, i) => [row[0], ys[i]]);
    frame.points(pairs(this.data.x, this.data.y), { fill: "#2f6fde", radius: 5 });
    frame.points(pairs(this.data.validation_x, this.data.validation_y),
      { fill: "#fff", stroke: "#e8590c", radius: 5 });
  },
  describe(params) {
    const w = flat(params["linear.weight"]);
    return [...w.map((v, k) => [`w${k + 1}`, "", v]), ["b", "", flat(params["linear.bias"])[0]]];
  },
  get caption() {
    return t("polyfit.caption");
  },
};

const MINIMA_RANGE = [-2.2, 2.2];
const MINIMA_Y = [-1, 5];

const twoMinima = {
  name: "two-minima",
  get note() {
    return t("minima.note");
  },
  defaults: { lr: 0.05, steps: 5, init: "trained" },
  async prepare() {
    if (this.values) return;
    this.grid = axis(...MINIMA_RANGE, 221);
    const instances = this.grid.map((x) => [x]);
    const answer = await postJson("/v1/models/two-minima/predict", { instances });
    this.values = answer.predictions.map((p) => flat(p)[0]);
  },
  body() {
    return {};
  },
  reset() {
    // The last walk stays on the plot, faded, so two starts can be compared.
    if (this.path?.length > 1) this.earlier = this.path;
    this.path = [];
  },
  valueAt(x) {
    const step = this.grid[1] - this.grid[0];
    const f = Math.max(0, Math.min(this.grid.length - 1.001, (x - this.grid[0]) / step));
    const i = Math.floor(f);
    return this.values[i] + (f - i) * (this.values[i + 1] - this.values[i]);
  },
  // A click on the plot: the start (the page then sends it as the parameters).
  startAt(canvas, event) {
    const frame = new Frame(canvas, MINIMA_RANGE, MINIMA_Y);
    const box = canvas.getBoundingClientRect();
    const col = ((event.clientX - box.left) * canvas.width) / box.width - frame.left;
    const p = frame.dataAt(col, 0)[0];
    return { point: [Math.max(MINIMA_RANGE[0], Math.min(MINIMA_RANGE[1], p))] };
  },
  draw(canvas, history) {
    const frame = new Frame(canvas, MINIMA_RANGE, MINIMA_Y);
    frame.clear();
    frame.axes("p", "f(p)");
    if (!this.values) return;
    frame.polyline(this.grid.map((x, i) => [x, this.values[i]]), { stroke: "#2f6fde", width: 2 });
    if (this.earlier) {
      frame.polyline(this.earlier, { stroke: "rgba(43, 138, 62, 0.6)", width: 1.5 });
      frame.points(this.earlier.slice(-1), { fill: "rgba(43, 138, 62, 0.8)", radius: 6 });
    }
    const path = history.map((params) => flat(params.point)[0]).map((p) => [p, this.valueAt(p)]);
    this.path = path;
    frame.polyline(path, { stroke: "#d9480f", width: 1.5 });
    frame.points(path.slice(0, -1), { fill: "#d9480f", radius: 2.5, stroke: "#d9480f" });
    frame.points(path.slice(-1), { fill: "#d9480f", radius: 7 });
  },
  describe(params) {
    return [["p", "", flat(params.point)[0]]];
  },
  get caption() {
    return t("minima.caption");
  },
};

const PIXELS = 28;

const mnistSoftmax = {
  name: "mnist-softmax",
  get note() {
    return t("softmax.note");
  },
  defaults: { lr: 0.005, steps: 2, init: "zeros" },
  weights: true,
  async prepare(about) {
    this.data = about.data;
  },
  body() {
    return {};
  },
  draw(canvas, history) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const last = history.at(-1);
    if (!last) return;
    const w = flat(last["linear.weight"]); // [10 * 784], row k is digit k
    const scale = Math.max(1e-12, ...w.map(Math.abs));
    const size = Math.floor(Math.min(canvas.width / 5, canvas.height / 2) - 16);
    for (let k = 0; k < 10; k++) {
      const picture = weightPicture(w.slice(k * PIXELS * PIXELS, (k + 1) * PIXELS * PIXELS), scale);
      const x = 8 + (k % 5) * (size + 16);
      const y = 24 + Math.floor(k / 5) * (size + 28);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(picture, x, y, size, size);
      ctx.fillStyle = "#1d2330";
      ctx.font = '13px system-ui, "DejaVu Sans", sans-serif';
      ctx.fillText(String(k), x + size / 2 - 4, y - 6);
    }
  },
  describe(params) {
    return flat(params["linear.bias"]).map((b, k) => [`b${k}`, "", b]);
  },
  get caption() {
    return t("softmax.caption");
  },
};

// One weight row as a 28x28 picture: red for positive weights, blue for negative (drawing).
function weightPicture(row, scale) {
  const picture = document.createElement("canvas");
  picture.width = PIXELS;
  picture.height = PIXELS;
  const image = picture.getContext("2d").createImageData(PIXELS, PIXELS);
  row.forEach((v, i) => {
    const a = Math.min(1, Math.abs(v) / scale);
    const [r, g, b] = v >= 0 ? [255, 255 * (1 - a), 255 * (1 - a)] : [255 * (1 - a), 255 * (1 - a), 255];
    image.data.set([r, g, b, 255], 4 * i);
  });
  picture.getContext("2d").putImageData(image, 0, 0);
  return picture;
}

export const LESSONS = [tinyMlp, polynomialFit, twoMinima, mnistSoftmax];
