// Draw a digit or a number: a pointer-driven pad (mouse, touch, pen) whose PNG goes to
// POST /predict when a stroke ends; an image file can be dropped or chosen instead. The answer
// shows the number read and, over the drawing, each digit's box with the digit read in it.

import { clearError, postFile, showError } from "./api.js";
import { register, t } from "./i18n.js";
import { buildBars, resetResult, showAnswer } from "./result.js";

register({
  "draw.box": { en: "digit {digit} read here", zh: "此处读出数字 {digit}" },
});

const INK_WIDTH = 20; // about the stroke width of an MNIST digit drawn at 10x scale

export function setupDraw() {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const view = {
    digit: document.getElementById("digit"),
    bars: document.getElementById("bars"),
    seen: document.getElementById("seen"),
    meta: document.getElementById("predict-meta"),
    error: document.getElementById("predict-error"),
    model: document.getElementById("predict-model"),
  };
  const state = { drawing: false, last: null, ticket: 0, source: null };

  buildBars(view.bars);
  clearPad(ctx, pad);

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    state.drawing = true;
    state.last = padPoint(pad, event);
    dot(ctx, state.last);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!state.drawing) return;
    const point = padPoint(pad, event);
    segment(ctx, state.last, point);
    state.last = point;
  });
  const endStroke = () => {
    if (!state.drawing) return;
    state.drawing = false;
    state.source = null; // the pad itself is what gets predicted now
    pad.toBlob((blob) => predict(blob, "digit.png", view, state), "image/png");
  };
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  document.getElementById("clear").addEventListener("click", () => {
    clearPad(ctx, pad);
    state.source = null;
    state.ticket += 1; // an answer still in flight belongs to the old drawing
    resetResult(view);
    clearBoxes();
  });
  view.model.addEventListener("change", () => repredict(pad, view, state));
  setupFileInput(pad, ctx, view, state);
}

function padPoint(pad, event) {
  const box = pad.getBoundingClientRect();
  return {
    x: ((event.clientX - box.left) * pad.width) / box.width,
    y: ((event.clientY - box.top) * pad.height) / box.height,
  };
}

function dot(ctx, p) {
  ctx.beginPath();
  ctx.arc(p.x, p.y, INK_WIDTH / 2, 0, 2 * Math.PI);
  ctx.fill();
}

function segment(ctx, a, b) {
  ctx.beginPath();
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
}

function clearPad(ctx, pad) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.fillStyle = "#000";
  ctx.strokeStyle = "#000";
  ctx.lineWidth = INK_WIDTH;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
}

function setupFileInput(pad, ctx, view, state) {
  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("file");
  const accept = (file) => {
    if (!file) return;
    state.source = file;
    showOnPad(pad, ctx, file);
    predict(file, file.name, view, state);
  };
  input.addEventListener("change", () => {
    accept(input.files[0]);
    input.value = ""; // choosing the same file again fires change again
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    accept(event.dataTransfer.files[0]);
  });
}

function showOnPad(pad, ctx, file) {
  // The file is sent as it is; this picture is only so the person sees what they dropped.
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    clearPad(ctx, pad);
    const scale = Math.min(pad.width / img.width, pad.height / img.height);
    const w = img.width * scale;
    const h = img.height * scale;
    ctx.drawImage(img, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    URL.revokeObjectURL(url);
  };
  img.onerror = () => URL.revokeObjectURL(url);
  img.src = url;
}

function repredict(pad, view, state) {
  if (state.source) {
    predict(state.source, state.source.name, view, state);
  } else if (view.digit.dataset.value !== undefined) {
    pad.toBlob((blob) => predict(blob, "digit.png", view, state), "image/png");
  }
}

async function predict(blob, filename, view, state) {
  const ticket = ++state.ticket;
  const model = view.model.value;
  const started = performance.now();
  view.meta.textContent = t("draw.asking", { model });
  try {
    const url = `/predict?model=${encodeURIComponent(model)}&debug=true`;
    const answer = await postFile(url, blob, filename);
    if (ticket !== state.ticket) return; // a newer stroke already asked
    clearError(view.error);
    showAnswer(view, answer, performance.now() - started);
    showNumber(view, answer, state.source === null);
  } catch (err) {
    if (ticket !== state.ticket) return;
    resetResult(view);
    clearBoxes();
    showError(view.error, err);
  }
}

function showNumber(view, answer, fromPad) {
  // The pad's PNG is 280x280 like the pad itself, so a box in upload pixels is a box on the pad;
  // a dropped file was scaled onto the pad, so its boxes are not drawn.
  view.digit.textContent = answer.number;
  view.digit.dataset.number = answer.number;
  clearBoxes();
  if (!fromPad) return;
  const zone = document.getElementById("drop-zone");
  const pad = document.getElementById("pad");
  const scale = pad.clientWidth / pad.width;
  for (const { digit, box } of answer.digits) {
    const [x, y, w, h] = box.map((v) => v * scale);
    const mark = document.createElement("div");
    mark.className = "digit-box";
    mark.dataset.digit = String(digit);
    mark.setAttribute("aria-label", t("draw.box", { digit }));
    mark.textContent = String(digit);
    Object.assign(mark.style, {
      position: "absolute", left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px`,
      border: "2px solid #d62728", color: "#d62728", font: "bold 14px sans-serif",
      pointerEvents: "none", boxSizing: "border-box",
    });
    zone.appendChild(mark);
  }
}

function clearBoxes() {
  for (const mark of document.querySelectorAll("#drop-zone .digit-box")) mark.remove();
}
