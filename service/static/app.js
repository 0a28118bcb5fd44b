// Entry point of the page: the models line in the header, then the two demos.

import { getJson } from "./api.js";
import { setLang, setupLanguageSwitch, lang, t } from "./i18n.js";
import "./text-page.js";
import "./text-calculus.js";
import { setupActivations } from "./activations.js";
import { setupGraph } from "./graph.js";
import { setupSlope } from "./slope.js";
import { setupDescent } from "./descent.js";
import { setupDraw } from "./draw.js";

async function showModels() {
  const line = document.getElementById("models-status");
  try {
    const answer = await getJson("/v1/models");
    const models = answer.models ?? answer;
    line.replaceChildren(t("models.list"));
    models.forEach((model, i) => {
      const span = document.createElement("span");
      span.textContent = `${model.name} v${model.version}`;
      if (!model.ready) {
        span.className = "down";
        span.textContent += ` (${t("models.notReady")}${model.reason ? `: ${model.reason}` : ""})`;
      }
      line.append(span, i < models.length - 1 ? ", " : "");
    });
  } catch (err) {
    line.textContent = t("models.failed", { error: err.describe ? err.describe() : err });
    line.classList.add("down");
  }
}

setLang(lang(), { remember: false });
setupLanguageSwitch(document.getElementById("lang"));
window.addEventListener("langchange", showModels);
setupDraw();
setupDescent();
setupGraph();
setupSlope();
setupActivations();
showModels();
