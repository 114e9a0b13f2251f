// The demo chat page: wiring between the form, the relay and the transcript.
// Plain DOM and ES modules, no framework and no build step. A reply's request is
// sent in requestReply() (resumed after a reload in resumeReply()) and its events
// are applied in applyEvent(); the DOM is drawn by turns.js from the records in
// conversation.js.
import { RelayClient, RelayError } from "./relay-client.js";
import { Credentials } from "./credentials.js";
import { cutOffReply, messagesFor, newReply, promptBefore, restore, save, forget } from "./conversation.js";
import { errorRecord, headline, isCredentialError } from "./error-words.js";
import { copyCode, loadMarkdown } from "./markdown.js";
import { ReplyView, userTurn } from "./turns.js";

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
  settingsPanel: byId("settings-panel", HTMLDetailsElement),
  authMode: byId("auth-mode", HTMLSelectElement),
  apiKey: byId("api-key", HTMLInputElement),
  remember: byId("remember", HTMLInputElement),
  keyNote: byId("key-note", HTMLElement),
  clear: byId("clear", HTMLButtonElement),
  transcript: byId("transcript", HTMLElement),
  empty: byId("empty", HTMLElement),
  composer: byId("composer", HTMLFormElement),
  prompt: byId("prompt", HTMLTextAreaElement),
  send: byId("send", HTMLButtonElement),
  stop: byId("stop", HTMLButtonElement),
  status: byId("status", HTMLElement),
  alert: byId("alert", HTMLElement),
};

const credentials = new Credentials({ mode: ui.authMode, key: ui.apiKey, remember: ui.remember });
/** @type {import("./conversation.js").Turn[]} */
let turns = [];
/** @type {ReplyView[]} */
let views = [];
/**
 * Aborts the stream in flight; null when idle. The page's streams are resumable, so their
 * generation outlives the connection: on abort relay-client.js also cancels it (DELETE).
 * @type {AbortController | null}
 */
let inFlight = null;
/** Set once the page is going away: the reply in flight is then saved as it is, to be resumed. */
let leaving = false;
/** @type {ReturnType<typeof setTimeout> | null} */
let saveTimer = null;

/**
 * The one-line status; errors also go to the assertive #alert region, so they are announced.
 * @param {"idle" | "streaming" | "done" | "stopped" | "error"} state
 * @param {string} text
 */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
  ui.alert.textContent = state === "error" ? text : "";
}

/** Says, next to the key field, why the key or token did not work; null clears it. @param {string | null} text */
function setKeyNote(text) {
  ui.keyNote.hidden = text === null;
  ui.keyNote.textContent = text ?? "";
  ui.apiKey.setAttribute("aria-invalid", String(text !== null));
  if (text !== null) ui.settingsPanel.open = true;
}

/** @param {boolean} busy */
function setBusy(busy) {
  ui.send.disabled = busy;
  ui.stop.disabled = !busy;
  ui.model.disabled = busy || ui.model.options.length === 0 || !ui.model.value;
  ui.dialect.disabled = ui.authMode.disabled = busy;
  for (const view of views) view.allowRetry(!busy && view === views[views.length - 1]);
}

/** @param {string | undefined} token @returns {Record<string, string>} */
const authHeaders = (token) => (token ? { Authorization: `Bearer ${token}` } : {});

/** Fills the model picker from GET /api/v1/models; a refused key is reported by the key field. */
async function loadModels() {
  try {
    const res = await fetch("/api/v1/models", { headers: authHeaders(await credentials.bearer()) });
    if (res.status === 401) {
      const who = credentials.tokenMode ? "browser token" : ui.apiKey.value.trim() ? "key" : "missing key";
      throw Object.assign(new Error(`the relay refused the ${who} (HTTP 401)`), { status: 401 });
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    /** @type {{data: {id: string}[]}} */
    const body = await res.json();
    const ids = body.data.map((m) => String(m.id));
    ui.model.replaceChildren(...ids.map((id) => new Option(id, id)));
    setBusy(inFlight !== null);
    setKeyNote(null);
    if (!ids.length) setStatus("error", "The relay has no models configured.");
    else if (!inFlight) setStatus("idle", "Ready."); // a reply in flight keeps its status
  } catch (err) {
    ui.model.replaceChildren(new Option("unavailable", ""));
    ui.model.disabled = true;
    const message = err instanceof Error ? err.message : String(err);
    if (isCredentialError(errorRecord(err))) setKeyNote(keyAdvice(message));
    setStatus("error", `Could not load the models: ${message}.`);
  }
}

/** @param {string} problem */
function keyAdvice(problem) {
  if (credentials.tokenMode) return `Sign-in failed: ${problem}. Check that the page's backend is running.`;
  return ui.apiKey.value.trim()
    ? `This key was refused: ${problem}. Check it and press Enter in this field.`
    : `This relay needs an API key: ${problem}. Type one here and press Enter.`;
}

/** Shows the turns as they are now: the empty state, or one article each. */
function drawAll() {
  views = [];
  const articles = turns.map((turn, index) => {
    if (turn.role === "user") return userTurn(turn);
    const view = new ReplyView(turn, index);
    views.push(view);
    return view.article;
  });
  ui.empty.hidden = turns.length > 0;
  ui.transcript.replaceChildren(ui.empty, ...articles);
  setBusy(inFlight !== null);
  scrollToEnd(true);
}

/** Follows the stream only when the reader is already at the bottom. @param {boolean} [force] */
function scrollToEnd(force = false) {
  const t = ui.transcript;
  if (force || t.scrollHeight - t.scrollTop - t.clientHeight < 80) t.scrollTop = t.scrollHeight;
}

/** @param {string} prompt */
function ask(prompt) {
  const turn = /** @type {import("./conversation.js").UserTurn} */ ({ role: "user", content: prompt });
  turns.push(turn);
  ui.empty.hidden = true;
  ui.transcript.append(userTurn(turn));
  void reply();
}

/** Streams a reply to the conversation so far into a new assistant turn. */
async function reply() {
  const turn = newReply(ui.model.value, ui.dialect.value === "openai" ? "openai" : "events");
  const messages = messagesFor(turns);
  const view = new ReplyView(turn, turns.push(turn) - 1);
  views.push(view);
  ui.transcript.append(view.article);
  scrollToEnd(true);
  await follow(turn, view, "Answering…", (signal, changed) => requestReply(turn, messages, signal, changed));
}

/** After a reload, the reply the reload cut off continues where its saved events end. */
async function resumeCutOff() {
  const turn = cutOffReply(turns);
  const view = views[views.length - 1];
  if (!turn || !view || inFlight) return;
  await follow(turn, view, "Resuming the answer…", (signal, changed) => resumeReply(turn, signal, changed));
}

/**
 * Runs one reply's stream and records how it ended: done, stopped or failed.
 * @param {import("./conversation.js").AssistantTurn} turn
 * @param {ReplyView} view
 * @param {string} status what the status line says meanwhile
 * @param {(signal: AbortSignal, changed: () => void) => Promise<void>} stream
 */
async function follow(turn, view, status, stream) {
  const controller = (inFlight = new AbortController());
  setBusy(true);
  setStatus("streaming", status);
  save(turns);
  try {
    await stream(controller.signal, () => { view.update(); scrollToEnd(); saveSoon(); });
    turn.outcome = "done";
    setStatus("done", "Done.");
  } catch (err) {
    if (leaving) return; // the page is going: the reply stays "streaming" in storage, to be resumed
    const error = errorRecord(err);
    turn.outcome = error.code === "aborted" ? "stopped" : "failed";
    turn.error = turn.outcome === "failed" ? error : null;
    if (turn.outcome === "stopped") setStatus("stopped", "Stopped.");
    else setStatus("error", `Failed: ${headline(error)}`);
    if (isCredentialError(error)) {
      credentials.forgetToken();
      setKeyNote(keyAdvice(error.message));
    }
  } finally {
    if (inFlight === controller) inFlight = null;
    if (!leaving) {
      turn.streamId = turn.lastEventId = null;
      view.finish();
      save(turns);
      setBusy(inFlight !== null);
      scrollToEnd();
    }
  }
}

/** Saves the conversation at most every quarter second while a reply streams (and always on pagehide). */
function saveSoon() {
  saveTimer ??= setTimeout(() => {
    saveTimer = null;
    if (!leaving) save(turns);
  }, 250);
}

/**
 * A client for one reply; notes the backend that answered (the resume route does not repeat it).
 * @param {import("./conversation.js").AssistantTurn} turn
 */
async function clientFor(turn) {
  const token = await credentials.bearer();
  return new RelayClient({
    apiKey: token,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      turn.backend = res.headers.get("x-relay-backend") ?? turn.backend;
      return res;
    },
  });
}

/**
 * Sends one reply's request and applies its events to `turn` as they arrive.
 * @param {import("./conversation.js").AssistantTurn} turn
 * @param {{role: string, content: string}[]} messages
 * @param {AbortSignal} signal
 * @param {() => void} changed called after each event
 */
async function requestReply(turn, messages, signal, changed) {
  try {
    await streamReply(turn, messages, signal, changed, true);
  } catch (err) {
    // The relay refuses the opt-in (503) when it cannot reach its replay log: answer without it, then.
    if (!(err instanceof RelayError && err.code === "stream_store_unavailable" && err.status === 503)) throw err;
    await streamReply(turn, messages, signal, changed, false);
  }
}

/**
 * One attempt of requestReply(); a resumable one saves its stream id at once, to resume after a reload.
 * @param {import("./conversation.js").AssistantTurn} turn
 * @param {{role: string, content: string}[]} messages
 * @param {AbortSignal} signal
 * @param {() => void} changed
 * @param {boolean} resumable
 */
async function streamReply(turn, messages, signal, changed, resumable) {
  const client = await clientFor(turn);
  turn.startedAt = Date.now();
  const events = client.stream({
    dialect: dialectOf(turn), model: turn.model, messages, signal, resumable,
    onStreamId: (id) => { turn.streamId = id; save(turns); },
    onEventId: (id) => { turn.lastEventId = id; },
  });
  for await (const ev of events) {
    applyEvent(turn, ev);
    changed();
  }
}

/**
 * Resumes a reply cut off by a reload after its last saved event, so no text is lost or repeated.
 * @param {import("./conversation.js").AssistantTurn} turn
 * @param {AbortSignal} signal
 * @param {() => void} changed called after each event
 */
async function resumeReply(turn, signal, changed) {
  const client = await clientFor(turn);
  const events = client.resume({
    streamId: String(turn.streamId), lastEventId: turn.lastEventId ?? undefined, dialect: dialectOf(turn), signal,
    onEventId: (id) => { turn.lastEventId = id; },
  });
  for await (const ev of events) {
    applyEvent(turn, ev);
    changed();
  }
  if (turn.finish === null) throw new RelayError("the answer ended before it was complete", { code: "truncated" });
}

/** @param {import("./conversation.js").AssistantTurn} turn @returns {"openai" | "events"} */
const dialectOf = (turn) => (turn.dialect === "openai" ? "openai" : "events");

/**
 * @param {import("./conversation.js").AssistantTurn} turn
 * @param {import("./relay-client.js").RelayEvent} ev
 */
function applyEvent(turn, ev) {
  if (turn.ttftMs === null && ev.type !== "usage" && ev.type !== "done") {
    turn.ttftMs = Date.now() - (turn.startedAt ?? Date.now()); // across a reload too: wall-clock time
  }
  if (ev.type === "text_delta") turn.text += ev.content;
  else if (ev.type === "thinking") turn.thinking += ev.content;
  else if (ev.type === "tool_call") {
    const slot = (turn.tools[ev.index] ??= { name: ev.name ?? "tool", args: "" });
    slot.args += ev.arguments_delta;
  } else if (ev.type === "usage") {
    turn.usage = {
      prompt: ev.prompt_tokens, completion: ev.completion_tokens, total: ev.total_tokens,
      cached: ev.cached_tokens, reasoning: ev.reasoning_tokens,
    };
  } else if (ev.type === "done") turn.finish = ev.finish_reason;
}

/** Resends the prompt that the latest (failed or stopped) reply answered. */
function retry() {
  if (inFlight || promptBefore(turns, turns.length - 1) === null) return;
  void reply();
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const prompt = ui.prompt.value;
  if (!prompt.trim() || inFlight) return;
  if (!ui.model.value) {
    setStatus("error", "No model to send to: the model list could not be loaded (see Settings).");
    ui.settingsPanel.open = true;
    return;
  }
  ui.prompt.value = "";
  ask(prompt);
});

ui.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

/** Stop, Escape and New chat: the stream's generation is cancelled (relay-client.js sends the DELETE). */
function stop() {
  inFlight?.abort();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") stop();
});

ui.stop.addEventListener("click", stop);

ui.transcript.addEventListener("click", (event) => {
  const target = /** @type {HTMLElement} */ (event.target);
  if (target.closest(".retry")) retry();
  const copy = target.closest(".copy");
  if (copy instanceof HTMLButtonElement) void copyCode(copy);
});

ui.clear.addEventListener("click", () => {
  stop();
  inFlight = null;
  turns = [];
  forget();
  drawAll();
  setStatus("idle", "Ready.");
  ui.prompt.focus();
});

ui.apiKey.addEventListener("change", () => void loadModels());
ui.authMode.addEventListener("change", () => void loadModels());
ui.settings.addEventListener("submit", (event) => event.preventDefault());

ui.settingsPanel.open = matchMedia("(min-width: 640px)").matches;
try {
  await loadMarkdown();
} catch (err) {
  console.warn("demo page: Markdown libraries unavailable, showing plain text", err);
}
// A reload keeps the reply in flight as it is, to be resumed by the next load.
addEventListener("pagehide", () => { leaving = true; save(turns); });
addEventListener("pageshow", () => { leaving = false; });

turns = restore();
drawAll();
await loadModels(); // first, so its "Ready." never overwrites how the resumed reply ended
void resumeCutOff();
