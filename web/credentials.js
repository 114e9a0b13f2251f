// Who the page says it is: a relay key typed by the user, or a short-lived
// browser token fetched from the page's own backend, which holds the real key.
// The key is kept in memory unless the user ticks "remember"; tokens never are.

const REMEMBERED = "relay-demo:api-key";
/** The example backend's route (devtools/example_backend.py, mounted by `make dev`). */
export const TOKEN_ROUTE = "/example/browser-token";
/** Fetch a new token this long before the old one expires. */
const EARLY_SECONDS = 30;

export class Credentials {
  /** @param {{mode: HTMLSelectElement, key: HTMLInputElement, remember: HTMLInputElement}} fields */
  constructor(fields) {
    this.fields = fields;
    /** @type {{token: string, exp: number} | null} */
    this.cached = null;
    const saved = localStorage.getItem(REMEMBERED);
    if (saved) {
      fields.key.value = saved;
      fields.remember.checked = true;
    }
    fields.remember.addEventListener("change", () => this.persist());
    fields.key.addEventListener("change", () => this.persist());
    fields.mode.addEventListener("change", () => { this.cached = null; this.showMode(); });
    this.showMode();
  }

  get tokenMode() {
    return this.fields.mode.value === "token";
  }

  /** The key is written to localStorage only while "remember" is ticked, and removed when it is not. */
  persist() {
    const key = this.fields.key.value.trim();
    if (this.fields.remember.checked && key) localStorage.setItem(REMEMBERED, key);
    else localStorage.removeItem(REMEMBERED);
  }

  showMode() {
    const { key, remember } = this.fields;
    key.disabled = remember.disabled = this.tokenMode;
  }

  /** The bearer credential for the next request, or undefined for an anonymous one. */
  async bearer() {
    if (!this.tokenMode) return this.fields.key.value.trim() || undefined;
    if (this.cached && this.cached.exp - EARLY_SECONDS > Date.now() / 1000) return this.cached.token;
    const res = await fetch(TOKEN_ROUTE, { method: "POST" });
    if (!res.ok) {
      const problem = `the page's backend gave no browser token (HTTP ${res.status})`;
      throw Object.assign(new Error(problem), { code: "token_unavailable", retryable: true });
    }
    const body = await res.json();
    this.cached = { token: String(body.token), exp: Number(body.exp) };
    return this.cached.token;
  }

  /** A fresh token after the relay refused the cached one. */
  forgetToken() {
    this.cached = null;
  }
}
