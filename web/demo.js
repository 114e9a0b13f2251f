// The demo chat page: one conversation, streamed through RelayClient as it arrives.
// Plain DOM and no framework. Model text is only ever written with textContent,
// and the optional API key lives in the input field alone (never in storage).
import { RelayClient, RelayError } from "./relay-client.js";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{new (): T, prototype: T}} type
 * @returns {T}
 */
function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`demo page: #${id} is missing`);
  return node;
}

const ui = {
  model: byId("model", HTMLSelectElement),
  dialect: byId("dialect", HTMLSelectElement),
  settings: byId("settings", HTMLFormElement),
  apiKey: byId("api-key", HTMLInputElement),
  clear: byId("clear", HTMLButtonElement),
  transcript: byId("transcript", HTMLElement),
  composer: byId("composer", HTMLFormElement),
  prompt: byId("prompt", HTMLTextAreaElement),
  send: byId("send", HTMLButtonElement),
  stop: byId("stop", HTMLButtonElement),
  status: byId("status", HTMLElement),
  ttft: byId("ttft", HTMLElement),
  usage: byId("usage", HTMLElement),
  finish: byId("finish", HTMLElement),
};

/** The conversation so far, sent whole with each request; replaced by "New chat". @type {{role: string, content: string}[]} */
let messages = [];
/** Aborts the stream in flight; null when idle. @type {AbortController | null} */
let inFlight = null;

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/** The key typed into the page, if any; it is sent only to this relay. */
const apiKey = () => ui.apiKey.value.trim() || undefined;

/**
 * @param {"idle" | "streaming" | "done" | "stopped" | "error"} state
 * @param {string} text
 */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** @param {boolean} busy */
function setBusy(busy) {
  ui.send.disabled = busy;
  ui.stop.disabled = !busy;
  ui.model.disabled = busy || ui.model.options.length === 0;
  ui.dialect.disabled = busy;
}

/** Fills the model picker from GET /api/v1/models. */
async function loadModels() {
  try {
    const key = apiKey();
    const res = await fetch("/api/v1/models", { headers: key ? { Authorization: `Bearer ${key}` } : {} });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    /** @type {{data: {id: string}[]}} */
    const body = await res.json();
    const ids = body.data.map((m) => String(m.id));
    ui.model.replaceChildren(...ids.map((id) => new Option(id, id)));
    ui.model.disabled = ids.length === 0;
    setStatus(ids.length ? "idle" : "error", ids.length ? "Ready." : "The relay has no models configured.");
  } catch (err) {
    ui.model.replaceChildren(new Option("unavailable", ""));
    ui.model.disabled = true;
    setStatus("error", `Could not load models: ${messageOf(err)}`);
  }
}

/**
 * Appends one turn to the transcript.
 * @param {"user" | "assistant"} role
 * @param {string} content
 */
function addTurn(role, content) {
  ui.transcript.querySelector(".empty")?.remove();
  const turn = document.createElement("article");
  turn.className = `turn ${role}`;
  const who = document.createElement("h2");
  who.textContent = role === "user" ? "You" : "Assistant";
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = content;
  turn.append(who, text);
  ui.transcript.append(turn);
  scrollToEnd();
  return turn;
}

function scrollToEnd() {
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

/** One assistant turn being streamed: text, reasoning and tool calls, each shown as it arrives. */
class AnswerView {
  /** @param {HTMLElement} turn */
  constructor(turn) {
    this.turn = turn;
    this.turn.classList.add("streaming");
    this.textNode = /** @type {HTMLElement} */ (turn.querySelector(".text"));
    this.text = "";
    /** @type {HTMLElement | null} */
    this.thinking = null;
    /** @type {HTMLElement[]} */
    this.tools = [];
  }

  /** @param {string} delta */
  appendText(delta) {
    this.text += delta;
    this.textNode.textContent = this.text;
  }

  /** @param {string} delta */
  appendThinking(delta) {
    if (!this.thinking) {
      const details = document.createElement("details");
      details.className = "thinking";
      const summary = document.createElement("summary");
      summary.textContent = "Thinking";
      this.thinking = document.createElement("pre");
      details.append(summary, this.thinking);
      this.textNode.before(details);
    }
    this.thinking.textContent += delta;
  }

  /** @param {import("./relay-client.js").ToolCallEvent} ev */
  toolCall(ev) {
    let slot = this.tools[ev.index];
    if (!slot) {
      slot = this.tools[ev.index] = document.createElement("pre");
      slot.className = "tool-call";
      slot.textContent = `🔧 ${ev.name ?? "tool"}(`;
      this.turn.append(slot);
    }
    slot.textContent += ev.arguments_delta;
  }

  /** @param {"done" | "stopped" | "failed"} outcome */
  end(outcome) {
    this.turn.classList.remove("streaming");
    this.turn.classList.add(outcome);
    for (const slot of this.tools) if (slot) slot.textContent += ")";
  }
}

/**
 * Shows one event: text in the answer, usage and finish reason in the metrics.
 * @param {import("./relay-client.js").RelayEvent} ev
 * @param {AnswerView} answer
 */
function render(ev, answer) {
  if (ev.type === "text_delta") answer.appendText(ev.content);
  else if (ev.type === "thinking") answer.appendThinking(ev.content);
  else if (ev.type === "tool_call") answer.toolCall(ev);
  else if (ev.type === "usage") {
    ui.usage.textContent = `${ev.prompt_tokens} prompt + ${ev.completion_tokens} completion = ${ev.total_tokens}`;
  } else if (ev.type === "done") ui.finish.textContent = ev.finish_reason ?? "–";
  scrollToEnd();
}

/** @param {unknown} err */
function describe(err) {
  if (!(err instanceof RelayError)) return `Error: ${messageOf(err)}`;
  const retry = err.retryable ? (err.retryAfter != null ? ` Retry in ${err.retryAfter} s.` : " You can retry.") : "";
  return `Error (${err.code}): ${err.message}.${retry}`;
}

/**
 * Streams the answer to `prompt` into a new assistant turn.
 * @param {string} prompt
 */
async function send(prompt) {
  const conversation = messages;
  conversation.push({ role: "user", content: prompt });
  addTurn("user", prompt);
  const answer = new AnswerView(addTurn("assistant", ""));
  const controller = (inFlight = new AbortController());
  const client = new RelayClient({ apiKey: apiKey() });
  const dialect = ui.dialect.value === "openai" ? "openai" : "events";
  /** @type {import("./relay-client.js").StreamOptions} */
  const options = { dialect, model: ui.model.value, messages: [...conversation], signal: controller.signal };
  ui.ttft.textContent = ui.usage.textContent = ui.finish.textContent = "–";
  setBusy(true);
  setStatus("streaming", "Streaming…");
  const started = performance.now();
  let first = true;
  try {
    for await (const ev of client.stream(options)) {
      if (first && ev.type !== "usage" && ev.type !== "done") {
        first = false;
        ui.ttft.textContent = `${Math.round(performance.now() - started)} ms`;
      }
      render(ev, answer);
    }
    answer.end("done");
    setStatus("done", "Done.");
  } catch (err) {
    const stopped = err instanceof RelayError && err.code === "aborted";
    answer.end(stopped ? "stopped" : "failed");
    setStatus(stopped ? "stopped" : "error", stopped ? "Stopped." : describe(err));
  } finally {
    if (answer.text) conversation.push({ role: "assistant", content: answer.text });
    if (inFlight === controller) inFlight = null;
    setBusy(false);
  }
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const prompt = ui.prompt.value;
  if (!prompt.trim() || inFlight || !ui.model.value) return;
  ui.prompt.value = "";
  void send(prompt);
});

ui.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.stop.addEventListener("click", () => inFlight?.abort());

ui.clear.addEventListener("click", () => {
  inFlight?.abort();
  messages = [];
  ui.transcript.replaceChildren();
  ui.ttft.textContent = ui.usage.textContent = ui.finish.textContent = "–";
  setStatus("idle", "Ready.");
});

ui.apiKey.addEventListener("change", () => void loadModels());
ui.settings.addEventListener("submit", (event) => event.preventDefault());

void loadModels();
