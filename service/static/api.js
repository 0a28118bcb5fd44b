// Talking to the service: every non-2xx answer becomes an ApiError carrying the service's
// own {"error": ...} message, so the page can show it instead of swallowing it.

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }

  describe() {
    const where = this.status ? `HTTP ${this.status}: ` : "";
    const extra = this.detail ? `\n${JSON.stringify(this.detail)}` : "";
    return `${where}${this.message}${extra}`;
  }
}

async function errorFrom(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    const message = typeof body.error === "string" ? body.error : text;
    return new ApiError(response.status, message, body.detail ?? body.details);
  } catch {
    return new ApiError(response.status, text || response.statusText);
  }
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, `the service could not be reached (${err.message})`);
  }
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

export function getJson(url) {
  return send(url, { headers: { Accept: "application/json" } });
}

export function postJson(url, body) {
  return send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
}

export function postFile(url, blob, filename) {
  const form = new FormData();
  form.append("file", blob, filename);
  return send(url, { method: "POST", body: form });
}

export function showError(element, err) {
  element.textContent = err instanceof ApiError ? err.describe() : String(err);
  element.hidden = false;
}

export function clearError(element) {
  element.textContent = "";
  element.hidden = true;
}
