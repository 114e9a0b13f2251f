// The transcript's DOM: one <article> per turn, built from the records in
// conversation.js, so a streamed reply and a restored one look the same.
import { MarkdownView } from "./markdown.js";
import { headline, retryAdvice } from "./error-words.js";

/** @typedef {import("./conversation.js").UserTurn} UserTurn */
/** @typedef {import("./conversation.js").AssistantTurn} AssistantTurn */

const OUTCOME_WORDS = { streaming: "answering…", done: "", stopped: "stopped", failed: "failed" };

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {UserTurn} turn */
export function userTurn(turn) {
  const article = element("article", "turn user");
  article.append(element("h2", "who", "You"), element("div", "text plain", turn.content));
  return article;
}

/** One reply's article; `update()` redraws the parts that changed. */
export class ReplyView {
  /** @param {AssistantTurn} turn @param {number} index the turn's place in the conversation */
  constructor(turn, index) {
    this.turn = turn;
    this.article = element("article", "turn assistant");
    this.article.dataset.index = String(index);
    this.heading = element("h2", "who");
    this.thinking = element("details", "thinking");
    this.thinking.append(element("summary", "", "Thinking"), element("pre", ""));
    this.body = element("div", "text");
    this.tools = element("div", "tools");
    this.meta = element("dl", "meta");
    this.error = element("div", "error-panel");
    this.article.append(this.heading, this.thinking, this.body, this.tools, this.meta, this.error);
    this.markdown = new MarkdownView(this.body);
    this.update();
    if (turn.outcome !== "streaming") this.markdown.finish();
  }

  /** Redraws everything but the text, and schedules the text for the next frame. */
  update() {
    const { turn } = this;
    this.article.dataset.outcome = turn.outcome;
    const word = OUTCOME_WORDS[turn.outcome];
    this.heading.textContent = word ? `Assistant — ${word}` : "Assistant";
    this.thinking.hidden = !turn.thinking;
    /** @type {HTMLElement} */ (this.thinking.lastElementChild).textContent = turn.thinking;
    this.tools.replaceChildren(...turn.tools.map((t) => element("pre", "tool-call", `🔧 ${t.name}(${t.args})`)));
    this.drawMeta();
    this.drawError();
    this.markdown.update(turn.text);
  }

  /** The reply is over: final render with highlighting. */
  finish() {
    this.update();
    this.markdown.finish();
  }

  drawMeta() {
    const { turn } = this;
    /** @type {[string, string, string][]} */
    const rows = [["model", "Model", turn.model]];
    if (turn.backend) rows.push(["backend", "Backend", turn.backend]);
    if (turn.ttftMs != null) rows.push(["ttft", "First token", `${turn.ttftMs} ms`]);
    if (turn.usage) rows.push(["usage", "Tokens", describeUsage(turn.usage)]);
    if (turn.finish) rows.push(["finish", "Finish", turn.finish]);
    this.meta.replaceChildren(...rows.flatMap(([field, label, value]) => {
      const dd = element("dd", "", value);
      dd.dataset.field = field;
      return [element("dt", "", label), dd];
    }));
  }

  drawError() {
    const { error, outcome } = this.turn;
    this.error.hidden = outcome !== "failed" && outcome !== "stopped";
    if (this.error.hidden) return;
    /** @type {HTMLElement[]} */
    const lines = [];
    if (outcome === "stopped") lines.push(element("p", "error-title", "Stopped before the answer was complete."));
    else if (error) {
      lines.push(element("p", "error-title", headline(error)));
      const code = error.status ? `${error.code}, HTTP ${error.status}` : error.code;
      lines.push(element("p", "error-detail", `${error.message} (${code})`));
      lines.push(element("p", "error-advice", retryAdvice(error)));
    }
    const retry = element("button", "retry", "Retry");
    retry.setAttribute("type", "button");
    retry.setAttribute("aria-label", "Retry: send the same prompt again");
    lines.push(retry);
    this.error.replaceChildren(...lines);
  }

  /** Only the latest reply can be retried, so the transcript stays in order. @param {boolean} allowed */
  allowRetry(allowed) {
    const button = this.error.querySelector(".retry");
    if (button) /** @type {HTMLElement} */ (button).hidden = !allowed;
  }
}

/** @param {import("./conversation.js").Usage} u */
export function describeUsage(u) {
  const prompt = u.cached ? `${u.prompt} prompt (${u.cached} cached)` : `${u.prompt} prompt`;
  const completion = u.reasoning ? `${u.completion} completion (${u.reasoning} reasoning)` : `${u.completion} completion`;
  return `${prompt} + ${completion} = ${u.total}`;
}

