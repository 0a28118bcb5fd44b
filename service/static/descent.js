// Watch gradient descent: Step / Run / Reset drive POST /v1/models/{name}/gradient-step and
// draw what it returns. The page keeps the parameters between calls (the endpoint is
// stateless) and sends them back, so each call continues where the last one stopped.

import { clearError, getJson, postJson, showError } from "./api.js";
import { register, t } from "./i18n.js";
import { drawLoss } from "./loss.js";
import { formatNumber } from "./plot.js";
import { PROBLEMS, describeText } from "./problems.js";

register({
  "descent.lossIs": { en: "{note} Loss: {loss}.", zh: "{note} 损失函数: {loss}." },
});

const MAX_RUN_CALLS = 500; // Run stops by itself after this many calls
const RUN_PAUSE_MS = 60; // time to see each frame while running

export function setupDescent() {
  const el = (id) => document.getElementById(id);
  const ui = {
    problem: el("problem"), lr: el("lr"), steps: el("steps"), init: el("init"),
    l2: el("l2"), degree: el("degree"), compare: el("compare"),
    statValidation: el("stat-validation"),
    step: el("step"), run: el("run"), reset: el("reset"),
    view: el("view"), loss: el("loss"), note: el("problem-note"), caption: el("view-caption"),
    statSteps: el("stat-steps"), statLoss: el("stat-loss"), statParams: el("stat-params"),
    status: el("descent-status"), error: el("descent-error"),
  };
  const state = { seed: 0, running: false };

  // Step waits for the chosen problem's preparation (its card, the bowl's contour grid).
  const prepare = () => (state.prepared = choose(ui, state));
  ui.problem.addEventListener("change", prepare);
  ui.step.addEventListener("click", () => step(ui, state));
  ui.run.addEventListener("click", () => (state.running ? stop(ui, state) : run(ui, state)));
  ui.reset.addEventListener("click", () => {
    state.seed += 1; // a fresh random start each time
    reset(ui, state);
  });
  ui.init.addEventListener("change", () => reset(ui, state));
  ui.degree.addEventListener("change", () => reset(ui, state));
  ui.compare.addEventListener("click", () => compare(ui, state));
  ui.view.addEventListener("click", (event) => startAt(ui, state, event));
  window.addEventListener("langchange", () => {
    ui.note.textContent = noteOf(state);
    ui.caption.textContent = state.problem.caption;
    ui.run.textContent = t(state.running ? "descent.stop" : "descent.run");
    const { key, params } = ui.status.dataset;
    if (key) ui.status.textContent = t(key, JSON.parse(params ?? "{}"));
    redraw(ui, state);
  });
  prepare();
}

async function choose(ui, state) {
  stop(ui, state);
  const problem = PROBLEMS[ui.problem.value];
  state.problem = problem;
  ui.lr.value = String(problem.defaults.lr);
  ui.steps.value = String(problem.defaults.steps);
  if (problem.defaults.init) ui.init.value = problem.defaults.init;
  ui.l2.closest("label").hidden = !problem.weights;
  ui.degree.closest("label").hidden = !problem.degree;
  ui.compare.hidden = !problem.compare;
  ui.note.textContent = problem.note;
  ui.caption.textContent = problem.caption;
  reset(ui, state);
  try {
    const about = await getJson(`/v1/models/${encodeURIComponent(problem.name)}/gradient-step`);
    await problem.prepare(about);
    if (state.problem !== problem) return; // the person picked another problem meanwhile
    state.about = about;
    ui.note.textContent = noteOf(state);
    clearError(ui.error);
    redraw(ui, state);
  } catch (err) {
    showError(ui.error, err);
  }
}

// The problem's note, with the loss convention the endpoint described (as the API wrote it).
function noteOf(state) {
  const about = state.about;
  if (!about || about.name !== state.problem.name) return state.problem.note;
  return t("descent.lossIs", { note: state.problem.note, loss: about.convention ?? about.loss });
}

function reset(ui, state) {
  stop(ui, state);
  Object.assign(state, {
    params: null, history: [], losses: [], validation: [], total: 0, diverged: false,
  });
  state.problem?.reset?.();
  setStatus(ui, "", "status.press");
  clearError(ui.error);
  redraw(ui, state);
}

function request(ui, state) {
  const body = {
    ...state.problem.body(),
    learning_rate: Number(ui.lr.value),
    steps: Math.trunc(Number(ui.steps.value)),
    l2: state.problem.weights ? Number(ui.l2.value) : 0,
  };
  if (state.problem.degree) body.degree = Math.trunc(Number(ui.degree.value));
  // The first call starts from `init`; later calls continue from what came back.
  if (state.params) body.parameters = state.params;
  else Object.assign(body, { init: ui.init.value, seed: state.seed });
  return body;
}

async function step(ui, state) {
  if (state.diverged || ui.step.dataset.busy) return false;
  setBusy(ui, true);
  try {
    await state.prepared;
    const url = `/v1/models/${encodeURIComponent(state.problem.name)}/gradient-step`;
    const answer = await postJson(url, request(ui, state));
    clearError(ui.error);
    absorb(ui, state, answer);
    return !answer.diverged && !answer.converged;
  } catch (err) {
    showError(ui.error, err);
    return false;
  } finally {
    setBusy(ui, false);
  }
}

function absorb(ui, state, answer) {
  const losses = (answer.losses ?? []).map((v) => (v === null ? NaN : Number(v)));
  state.losses.push(...losses);
  state.validation.push(...(answer.validation_losses ?? []).map(Number));
  state.problem.absorb?.(answer);
  state.total += answer.steps ?? losses.length;
  if (state.history.length === 0 && answer.steps === 1 && hasGradients(answer)) {
    state.history.push(startOf(answer, Number(ui.lr.value)));
  }
  state.params = answer.parameters;
  state.history.push(answer.parameters);
  state.diverged = Boolean(answer.diverged);
  redraw(ui, state);
  const lr = ui.lr.value;
  if (answer.diverged) {
    setStatus(ui, "diverged", "status.diverged", { lr });
  } else if (answer.converged) {
    setStatus(ui, "converged", "status.converged", { steps: state.total });
  } else if (state.losses.length > 1 && state.losses.at(-1) > state.losses.at(-2)) {
    setStatus(ui, "rising", "status.rising", { lr });
  } else {
    setStatus(ui, "descending", "status.descending");
  }
}

async function run(ui, state) {
  state.running = true;
  ui.run.textContent = t("descent.stop");
  ui.run.classList.add("running");
  for (let call = 0; call < MAX_RUN_CALLS && state.running; call++) {
    if (!(await step(ui, state))) break;
    await new Promise((resolve) => setTimeout(resolve, RUN_PAUSE_MS));
  }
  stop(ui, state);
}

function stop(ui, state) {
  state.running = false;
  ui.run.textContent = t("descent.run");
  ui.run.classList.remove("running");
}

function setBusy(ui, busy) {
  if (busy) ui.step.dataset.busy = "1";
  else delete ui.step.dataset.busy;
}

// The status keeps its message key, so a language switch can say it again in the new language.
function setStatus(ui, kind, key, params = {}) {
  ui.status.textContent = t(key, params);
  ui.status.dataset.key = key;
  ui.status.dataset.params = JSON.stringify(params);
  ui.status.dataset.state = kind;
  ui.status.className = `status ${kind === "diverged" || kind === "rising" ? "bad" : ""}` +
    `${kind === "converged" ? "good" : ""}`;
}

function redraw(ui, state) {
  const problem = state.problem;
  const ready = problem.name !== "quadratic-bowl" || problem.grid;
  if (ready) problem.draw(ui.view, state.history);
  ui.view.dataset.drawn = String(Boolean(ready));
  drawLoss(ui.loss, state.losses, state.diverged, state.validation);
  const held = state.validation.at(-1);
  ui.statValidation.parentElement.hidden = held === undefined;
  ui.statValidation.textContent = held === undefined ? "-" : formatNumber(held, 6);
  ui.statValidation.dataset.value = held === undefined ? "" : String(held);
  ui.statSteps.textContent = String(state.total);
  ui.statSteps.dataset.value = String(state.total);
  const last = state.losses.filter(Number.isFinite).at(-1);
  ui.statLoss.textContent = last === undefined ? "-" : formatNumber(last, 6);
  ui.statLoss.dataset.value = last === undefined ? "" : String(last);
  showParams(ui.statParams, state.params ? problem.describe(state.params) : []);
}

function showParams(element, rows) {
  element.replaceChildren();
  if (rows.length === 0) {
    element.textContent = "-";
    return;
  }
  describeText(rows).forEach((text, i) => {
    const span = document.createElement("span");
    span.className = "param";
    span.dataset.name = rows[i][0];
    span.dataset.value = String(rows[i][2]);
    span.textContent = i < rows.length - 1 ? `${text},  ` : text;
    element.append(span);
  });
}

// The endpoint answers with the parameters after its steps. When a call ran one step, its
// gradients are those at the start, so the start is p + lr * grad (that step's update undone)
// and the drawn path can begin where the descent began.
function hasGradients(answer) {
  return Object.keys(answer.parameters).every((name) => answer.gradients?.[name] !== undefined);
}

function startOf(answer, lr) {
  const undo = (p, g) => (Array.isArray(p) ? p.map((v, i) => undo(v, g[i])) : p + lr * g);
  return Object.fromEntries(
    Object.entries(answer.parameters).map(([name, p]) => [name, undo(p, answer.gradients[name])]),
  );
}

// two-minima: a click on the plot chooses the start; the next Step sends it as the parameters.
function startAt(ui, state, event) {
  if (!state.problem.startAt || state.running) return;
  reset(ui, state);
  state.params = state.problem.startAt(ui.view, event);
  state.history.push(state.params);
  setStatus(ui, "", "minima.start", { p: formatNumber(state.params.point[0], 4) });
  redraw(ui, state);
}

// tiny-mlp: fit logistic regression to the same points (1000 steps from zeros) and draw its line.
async function compare(ui, state) {
  try {
    await state.prepared;
    const answer = await state.problem.compare(0.5);
    clearError(ui.error);
    redraw(ui, state);
    const loss = formatNumber(answer.losses.at(-1), 4);
    setStatus(ui, "compared", "tiny.compared", { loss });
  } catch (err) {
    showError(ui.error, err);
  }
}
