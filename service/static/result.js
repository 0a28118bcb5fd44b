// The answer to a prediction: the digit, a bar per class probability, the 28x28 image the
// model saw (from /predict?debug=true), the model used and the round-trip latency.

import { clearError } from "./api.js";
import { t } from "./i18n.js";

export function showAnswer(view, answer, latencyMs) {
  view.digit.textContent = String(answer.digit);
  view.digit.dataset.value = String(answer.digit);
  fillBars(view.bars, answer.probabilities);
  drawSeen(view.seen, seenImage(answer));
  const provider = answer.provider ? t("draw.provider", { provider: answer.provider }) : "";
  const { model, version } = answer;
  view.meta.textContent = t("draw.meta", { model, version, provider, ms: latencyMs.toFixed(0) });
  view.meta.dataset.latencyMs = latencyMs.toFixed(1);
}

export function resetResult(view) {
  view.digit.textContent = "?";
  delete view.digit.dataset.value;
  fillBars(view.bars, new Array(10).fill(0));
  drawSeen(view.seen, null);
  view.meta.textContent = "";
  clearError(view.error);
}

export function buildBars(list) {
  for (let digit = 0; digit < 10; digit++) {
    const item = document.createElement("li");
    item.innerHTML =
      `<span>${digit}</span><span class="track"><span class="fill"></span></span>` +
      `<span class="pct">0.0%</span>`;
    list.append(item);
  }
}

function fillBars(list, probabilities) {
  const top = probabilities.indexOf(Math.max(...probabilities));
  [...list.children].forEach((item, digit) => {
    const p = probabilities[digit] ?? 0;
    item.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    item.querySelector(".pct").textContent = `${(100 * p).toFixed(1)}%`;
    item.dataset.probability = String(p);
    item.classList.toggle("best", p > 0 && digit === top);
  });
}

function seenImage(answer) {
  // ?debug=true adds the 28x28 array the model saw; accept it under the names it may carry.
  return answer.image ?? answer.preprocessed ?? answer.input_image ?? null;
}

function drawSeen(canvas, rows) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!Array.isArray(rows) || rows.length === 0) return;
  const flat = rows.flat(Infinity);
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const image = ctx.createImageData(canvas.width, canvas.height);
  flat.slice(0, canvas.width * canvas.height).forEach((value, i) => {
    const grey = hi > lo ? Math.round((255 * (value - lo)) / (hi - lo)) : 0;
    image.data.set([grey, grey, grey, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
}
