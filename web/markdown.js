// Model text as Markdown: marked parses it, DOMPurify sanitizes the HTML, and
// highlight.js colours finished code blocks. Raw HTML in model output is shown
// as text rather than interpreted, and DOMPurify is the second line behind that:
// model output can never run script. The libraries are vendored copies loaded
// by URL (see vendor/VERSIONS.txt), so the page needs no build step.

const HIGHLIGHT_LANGUAGES = ["bash", "javascript", "json", "python", "typescript", "xml", "yaml"];
const ESCAPES = /** @type {Record<string, string>} */ ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" });

/** @param {string} text */
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** @typedef {{parse: (source: string) => string, sanitize: (html: string) => DocumentFragment, highlight: (el: HTMLElement) => void}} Renderer */

/** @type {Renderer | null} */
let renderer = null;

/** @param {string} name */
const vendored = (name) => import(new URL(name, import.meta.url).href);

/** Loads the vendored libraries once; without them replies fall back to plain text. */
export async function loadMarkdown() {
  const [{ Marked }, , core, ...languages] = await Promise.all([
    vendored("./marked.esm.js"),
    vendored("./purify.min.js"), // UMD: defines globalThis.DOMPurify
    vendored("./hljs-core.min.js"),
    ...HIGHLIGHT_LANGUAGES.map((lang) => vendored(`./hljs-${lang}.min.js`)),
  ]);
  const hljs = core.default;
  HIGHLIGHT_LANGUAGES.forEach((lang, i) => hljs.registerLanguage(lang, languages[i].default));
  const purify = /** @type {any} */ (globalThis).DOMPurify;
  purify.addHook("afterSanitizeAttributes", (/** @type {Element} */ node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  const marked = new Marked({ gfm: true, renderer: { html: (/** @type {{text: string}} */ t) => escapeHtml(t.text) } });
  renderer = {
    parse: (source) => String(marked.parse(source, { async: false })),
    sanitize: (html) => purify.sanitize(html, {
      RETURN_DOM_FRAGMENT: true,
      FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
      FORBID_ATTR: ["style"],
    }),
    highlight: (el) => hljs.highlightElement(el),
  };
}

/**
 * Renders `source` into `target`, replacing what was there.
 * @param {HTMLElement} target
 * @param {string} source
 * @param {boolean} final whether the text is complete (only then is code highlighted)
 */
export function renderMarkdown(target, source, final) {
  if (!renderer) {
    target.textContent = source;
    return;
  }
  target.replaceChildren(renderer.sanitize(renderer.parse(source).trim()));
  for (const code of target.querySelectorAll("pre > code")) decorateCode(/** @type {HTMLElement} */ (code), final);
}

/** @param {HTMLElement} code @param {boolean} final */
function decorateCode(code, final) {
  const pre = /** @type {HTMLElement} */ (code.parentElement);
  pre.tabIndex = 0; // long lines scroll: keyboard users need to reach them
  const language = /language-([\w-]+)/.exec(code.className)?.[1] ?? "";
  if (final && renderer && (!language || HIGHLIGHT_LANGUAGES.includes(language))) renderer.highlight(code);
  const bar = document.createElement("div");
  bar.className = "code-bar";
  const label = document.createElement("span");
  label.textContent = language || "code";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", `Copy ${language || "code"} block`);
  bar.append(label, copy);
  const block = document.createElement("div");
  block.className = "code-block";
  pre.replaceWith(block);
  block.append(bar, pre);
}

/** Copies the code block around `button` and says so on the button. @param {HTMLButtonElement} button */
export async function copyCode(button) {
  const code = button.closest(".code-block")?.querySelector("code");
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code.textContent ?? "");
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

/**
 * A reply's text that is re-rendered at most once per animation frame, however
 * many deltas arrive in between: a long answer is parsed per frame, never per delta.
 */
export class MarkdownView {
  /** @param {HTMLElement} target */
  constructor(target) {
    this.target = target;
    this.source = "";
    this.frame = 0;
  }

  /** @param {string} source the whole text so far */
  update(source) {
    this.source = source;
    this.frame ||= requestAnimationFrame(() => {
      this.frame = 0;
      renderMarkdown(this.target, this.source, false);
    });
  }

  /** Renders the final text now, highlighted. */
  finish() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    renderMarkdown(this.target, this.source, true);
  }
}
