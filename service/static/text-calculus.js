// The words of the calculus lessons (computation graph, derivative, activations) in both
// languages, in the study notes' terms: 计算图, 链式法则, 导数, 激活函数, 反向传播.

import { register } from "./i18n.js";

register({
  "nav.graph": { en: "Computation graph", zh: "计算图" },
  "nav.slope": { en: "Derivative", zh: "导数" },
  "nav.activations": { en: "Activations", zh: "激活函数" },
  "graph.title": { en: "The computation graph J = 3(a + bc)", zh: "计算图 J = 3(a + bc)" },
  "graph.hint": {
    en: "Forward, left to right: u = bc, v = a + u, J = 3v. Backward (backpropagation), right to left, one chain-rule step per node: dJ/dv = 3, dJ/du = dJ/dv · dv/du = 3, dJ/da = dJ/dv · dv/da = 3, dJ/db = dJ/du · du/db = 3c, dJ/dc = dJ/du · du/dc = 3b. Every number is computed by onnxruntime running the served computation-graph model (POST /v2/models/computation-graph/infer).",
    zh: "前向, 从左到右: u = bc, v = a + u, J = 3v. 反向 (反向传播), 从右到左, 每个节点用一次链式法则: dJ/dv = 3, dJ/du = dJ/dv · dv/du = 3, dJ/da = dJ/dv · dv/da = 3, dJ/db = dJ/du · du/db = 3c, dJ/dc = dJ/du · du/dc = 3b. 所有数字都由 onnxruntime 运行服务端的 computation-graph 模型计算 (POST /v2/models/computation-graph/infer).",
  },
  "graph.canvas": { en: "Computation graph of J = 3(a + bc)", zh: "J = 3(a + bc) 的计算图" },
  "graph.forward": { en: "→ forward: values", zh: "→ 前向: 数值" },
  "graph.backward": { en: "← backward: derivatives dJ/d·", zh: "← 反向: 导数 dJ/d·" },
  "graph.nudge": {
    en: "Nudge {name} by {nudge}: J goes from {from} to {to}, it moves by {moved} = dJ/d{name} × {nudge} (dJ/d{name} = {slope}).",
    zh: "把 {name} 增加 {nudge}: J 从 {from} 变为 {to}, 变化了 {moved} = dJ/d{name} × {nudge} (dJ/d{name} = {slope}).",
  },
  "slope.title": { en: "A derivative is a slope", zh: "导数就是斜率" },
  "slope.hint": {
    en: "Nudge a by a small h: (f(a + h) - f(a)) / h estimates the slope, the derivative. As h shrinks the secant (orange) turns into the tangent (blue) and the estimate closes on the exact slope, which the served derivative model computes by the chain rule for (3a² + 2)⁴: the outer derivative 4g³ at the inner value g = 3a² + 2, times the inner derivative 6a. The model computes in FP64.",
    zh: "把 a 增加一个很小的 h: (f(a + h) - f(a)) / h 是斜率 (导数) 的估计. h 越小, 割线 (橙色) 越接近切线 (蓝色), 估计值越接近精确的斜率; 对 (3a² + 2)⁴, 服务端的 derivative 模型用链式法则计算精确斜率: 外层导数 4g³ 在内层的值 g = 3a² + 2 处取值, 乘以内层导数 6a. 模型以 FP64 (双精度) 计算.",
  },
  "slope.fn": { en: "Function", zh: "函数" },
  "slope.h": { en: "Step h", zh: "步长 h" },
  "slope.curve": { en: "f with its secant and tangent at a", zh: "f 及其在 a 处的割线与切线" },
  "slope.errors": { en: "error of the estimate against h", zh: "估计误差与 h 的关系" },
  "slope.tangent": { en: "tangent: the exact slope", zh: "切线: 精确斜率" },
  "slope.secant": { en: "secant through a and a + h", zh: "经过 a 与 a + h 的割线" },
  "slope.hAxis": { en: "h", zh: "步长 h" },
  "slope.errAxis": { en: "|estimate - slope|", zh: "|估计值 - 斜率|" },
  "slope.readout": {
    en: "At a = {a}, h = {h}: f(a) = {f}, f(a + h) = {fh}; estimate (f(a + h) - f(a)) / h = {estimate}, exact slope = {slope}.",
    zh: "在 a = {a}, h = {h}: f(a) = {f}, f(a + h) = {fh}; 估计值 (f(a + h) - f(a)) / h = {estimate}, 精确斜率 = {slope}.",
  },
  "slope.rounding": {
    en: "Right panel: the error first falls with h (the secant hugs the curve), then rises again below about h = 1e-8: f(a + h) and f(a) agree in almost all of their 16 digits, and dividing their rounded difference by a tiny h magnifies the rounding. That is where float rounding takes over; in float32 it would happen near h = 1e-3 already.",
    zh: "右图: 误差先随 h 减小而下降 (割线贴近曲线), 在大约 h = 1e-8 以下又回升: f(a + h) 与 f(a) 的 16 位有效数字几乎完全相同, 它们舍入后的差再除以极小的 h, 舍入误差就被放大了. 这就是浮点舍入误差开始占主导的地方; 如果用 float32, 在 h = 1e-3 附近就会出现.",
  },
  "act.title": { en: "Activation functions and their derivatives", zh: "激活函数及其导数" },
  "act.hint": {
    en: "Blue: the function; orange dashed: its derivative, both served by the activations model on a grid of z.",
    zh: "蓝色: 函数; 橙色虚线: 它的导数, 两者都由服务端的 activations 模型在 z 的网格上计算.",
  },
  "act.derivative": { en: "{name}' (max {peak})", zh: "{name} 的导数 (最大 {peak})" },
  "act.sigmoid": {
    en: "sigmoid' = a(1 - a) is at most 0.25 (at z = 0). Backpropagation multiplies one such factor per layer, so through 10 sigmoid layers the gradient shrinks by at least 0.25¹⁰ ≈ 1e-6: deep sigmoid stacks learn slowly (vanishing gradients), and a saturated unit (|z| large) passes almost nothing back.",
    zh: "sigmoid 的导数 a(1 - a) 最大只有 0.25 (在 z = 0 处). 反向传播每经过一层就乘上一个这样的因子, 所以穿过 10 层 sigmoid 后, 梯度至少缩小为 0.25¹⁰ ≈ 1e-6: 很深的 sigmoid 网络学得很慢 (梯度消失), 饱和的单元 (|z| 很大) 几乎不向后传递梯度.",
  },
  "act.tanh": {
    en: "tanh' = 1 - tanh² reaches 1 at z = 0 and tanh is centred on 0, so it passes gradients better than sigmoid, but it saturates the same way for large |z|.",
    zh: "tanh 的导数 1 - tanh² 在 z = 0 处达到 1, 且 tanh 以 0 为中心, 所以它比 sigmoid 更能传递梯度; 但 |z| 很大时同样会饱和.",
  },
  "act.relu": {
    en: "relu' is exactly 1 for every z > 0: a gradient passes through any number of active units unshrunk, and relu is cheap to compute. That is why ReLU is the usual first choice for hidden layers (its derivative is 0 for z < 0, so a unit that is never active stops learning).",
    zh: "relu 的导数在 z > 0 时恰好为 1: 梯度穿过任意多层激活的单元都不会缩小, 而且 relu 计算简单. 这就是 ReLU 通常是隐藏层首选激活函数的原因 (z < 0 时导数为 0, 所以一个始终不激活的单元会停止学习).",
  },
  "softmax.title": { en: "Softmax with a temperature", zh: "带温度的 softmax" },
  "softmax.hint": {
    en: "softmax(s / T)ₖ = exp(sₖ / T) / Σⱼ exp(sⱼ / T), served by the softmax-temperature model. A low temperature T sharpens the probabilities towards the top score (T → 0: argmax); T = 1 is the plain softmax; a high T flattens them towards uniform. The order of the scores never changes.",
    zh: "softmax(s / T)ₖ = exp(sₖ / T) / Σⱼ exp(sⱼ / T), 由服务端的 softmax-temperature 模型计算. 温度 T 低时概率集中到最高分上 (T → 0: 即 argmax); T = 1 就是普通的 softmax; T 高时概率趋于均匀. 分数的大小顺序始终不变.",
  },
  "softmax.scores": { en: "Scores", zh: "分数" },
  "softmax.t": { en: "Temperature", zh: "温度" },
  "softmax.bars": { en: "Probabilities", zh: "概率" },
});
