// The conversation as plain records: what the transcript shows, what the model
// is sent, and what survives a reload. Session storage only, and never a key:
// credentials live in credentials.js.

/** @typedef {import("./error-words.js").ErrorRecord} ErrorRecord */
/**
 * @typedef {{prompt: number, completion: number, total: number, cached: number, reasoning: number}} Usage
 * @typedef {{role: "user", content: string}} UserTurn
 * @typedef {{role: "assistant", text: string, thinking: string, tools: {name: string, args: string}[],
 *   outcome: "streaming"|"done"|"stopped"|"failed", model: string, dialect: string, backend: string|null,
 *   ttftMs: number|null, usage: Usage|null, finish: string|null, error: ErrorRecord|null,
 *   streamId?: string|null, lastEventId?: string|null, startedAt?: number}} AssistantTurn
 * `streamId` and `lastEventId` say where a reply still streaming can be resumed after a reload: the
 * relay's stream, and the last event whose content is already in `text` (README, Resumable streams).
 * @typedef {UserTurn | AssistantTurn} Turn
 */

const STORAGE_KEY = "relay-demo:conversation";

/** @param {string} model @param {string} dialect @returns {AssistantTurn} */
export function newReply(model, dialect) {
  return {
    role: "assistant", text: "", thinking: "", tools: [], outcome: "streaming", model, dialect,
    backend: null, ttftMs: null, usage: null, finish: null, error: null,
    streamId: null, lastEventId: null, startedAt: Date.now(),
  };
}

/**
 * What the model is sent: every prompt, and every reply that produced text and did not fail.
 * A failed reply stays on screen but is left out, so a retry asks the same question afresh.
 * @param {Turn[]} turns
 * @returns {{role: string, content: string}[]}
 */
export function messagesFor(turns) {
  /** @type {{role: string, content: string}[]} */
  const out = [];
  for (const turn of turns) {
    if (turn.role === "user") out.push({ role: "user", content: turn.content });
    else if (turn.outcome !== "failed" && turn.text) out.push({ role: "assistant", content: turn.text });
  }
  return out;
}

/** The last prompt before `index`, the one a retry of that reply resends. @param {Turn[]} turns @param {number} index */
export function promptBefore(turns, index) {
  for (let i = index - 1; i >= 0; i--) {
    const turn = turns[i];
    if (turn.role === "user") return turn.content;
  }
  return null;
}

/** @param {Turn[]} turns */
export function save(turns) {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(turns));
  } catch {
    // Storage full or disabled: the conversation still works, it just will not survive a reload.
  }
}

/**
 * The conversation saved in this tab, if any. The last reply, if it was still
 * streaming when the page went away and has a stream id, stays "streaming" for
 * the page to resume; any other reply cut off by the reload is marked stopped.
 * @returns {Turn[]}
 */
export function restore() {
  let turns;
  try {
    turns = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(turns)) return [];
  const valid = turns.filter(isTurn);
  return valid.map((turn, index) => {
    if (turn.role !== "assistant" || turn.outcome !== "streaming") return turn;
    const resumable = index === valid.length - 1 && typeof turn.streamId === "string" && turn.streamId !== "";
    return resumable ? turn : { ...turn, outcome: "stopped" };
  });
}

/** The reply to resume after a reload: the last turn, if restore() left it streaming. @param {Turn[]} turns */
export function cutOffReply(turns) {
  const last = turns[turns.length - 1];
  return last?.role === "assistant" && last.outcome === "streaming" ? last : null;
}

export function forget() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** @param {any} value @returns {value is Turn} */
function isTurn(value) {
  if (!value || typeof value !== "object") return false;
  if (value.role === "user") return typeof value.content === "string";
  return value.role === "assistant" && typeof value.text === "string" && Array.isArray(value.tools);
}
