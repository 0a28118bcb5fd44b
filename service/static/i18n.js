// The page in 中文 and English. Every string the page writes is a key with both languages;
// modules register their own keys (register), mark static elements with data-i18n, and read
// dynamic text with t(). The choice is kept in localStorage; without one, a browser whose
// first preferred language is Chinese gets Chinese. API errors are shown as the service
// wrote them (English JSON), never translated.

const STORE = "nnserve.lang";
const LANGS = ["zh", "en"];
const DICT = {};

// Both languages for every key, or the key is refused (and the console says which).
export function register(entries) {
  for (const [key, text] of Object.entries(entries)) {
    if (typeof text.en !== "string" || typeof text.zh !== "string") {
      console.error(`i18n: "${key}" needs both en and zh`);
      continue;
    }
    DICT[key] = text;
  }
}

export function preferred() {
  const stored = localStorage.getItem(STORE);
  if (LANGS.includes(stored)) return stored;
  const first = (navigator.languages?.[0] ?? navigator.language ?? "en").toLowerCase();
  return first.startsWith("zh") ? "zh" : "en";
}

let current = "en";

export function lang() {
  return current;
}

// t("key", { name: value }) fills {name} placeholders; an unknown key shows itself.
export function t(key, vars = {}) {
  const text = DICT[key]?.[current] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// data-i18n="key" sets the text; data-i18n-attr="aria-label:key;title:key" sets attributes.
export function apply(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  root.querySelectorAll("[data-i18n-attr]").forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  });
}

// Switching re-labels the page and fires "langchange" so modules redraw their dynamic text.
export function setLang(next, { remember = true } = {}) {
  current = LANGS.includes(next) ? next : "en";
  if (remember) localStorage.setItem(STORE, current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.title = t("page.title");
  apply();
  window.dispatchEvent(new CustomEvent("langchange", { detail: { lang: current } }));
}

export function setupLanguageSwitch(select) {
  select.value = current;
  select.addEventListener("change", () => setLang(select.value));
  window.addEventListener("langchange", () => {
    select.value = current;
  });
}

// Runs at import, before any module writes text, so the first paint is in the right language.
current = preferred();
