// relay-client.js — dependency-free streaming client for the relay's SSE endpoints.
// ES module; runs in browsers and Node >= 18. Types: relay-client.d.ts.

/**
 * One dispatched server-sent event.
 * @typedef {{type: string, data: string, lastEventId: string}} SSEEvent
 */

/**
 * Normalized relay events (the same for both dialects). Errors are thrown, not yielded.
 * @typedef {{type: "text_delta", content: string}} TextDeltaEvent
 * @typedef {{type: "thinking", content: string}} ThinkingEvent
 * @typedef {{type: "tool_call", index: number, id: string|null, name: string|null, arguments_delta: string}} ToolCallEvent
 * @typedef {{type: "usage", prompt_tokens: number, completion_tokens: number, total_tokens: number, cached_tokens: number, reasoning_tokens: number}} UsageEvent
 * @typedef {{type: "done", finish_reason: string|null}} DoneEvent
 * @typedef {TextDeltaEvent|ThinkingEvent|ToolCallEvent|UsageEvent|DoneEvent} RelayEvent
 */

/**
 * @typedef {object} StreamOptions
 * @property {"openai"|"events"} [dialect] wire dialect; default "events" (POST /api/chat)
 * @property {string} model
 * @property {Array<{role: string, content: unknown} & Record<string, unknown>>} [messages]
 * @property {string} [prompt] used when `messages` is absent
 * @property {number} [maxTokens] sent as `max_tokens`
 * @property {number} [temperature]
 * @property {Record<string, unknown>} [extraBody] extra JSON body fields
 * @property {Record<string, string>} [headers] extra request headers
 * @property {AbortSignal} [signal] aborting cancels the request and the response body (and a resumable stream's generation)
 * @property {boolean | {retries?: number, backoffMs?: number, maxBackoffMs?: number}} [resumable] send
 *   `x-relay-resumable: 1` and, on a network error or a cut stream, resume after the last event received
 *   (default 5 retries, backoff from 250 ms doubling up to 4 s)
 * @property {(streamId: string) => void} [onStreamId] the resumable stream's id, once the response starts
 * @property {(eventId: string) => void} [onEventId] each SSE event's `id`, once every event it carried has
 *   been yielded: what to save with the events applied so far, to resume after exactly them
 */

/**
 * @typedef {object} ResumeOptions
 * @property {string} streamId `x-relay-stream-id` of the original response
 * @property {string|number} [lastEventId] the last event id received; absent: from the start
 * @property {"openai"|"events"} [dialect] the original request's dialect; default "events"
 * @property {AbortSignal} [signal] aborting stops reading and cancels the stream's generation, as for stream()
 * @property {(eventId: string) => void} [onEventId] as for stream()
 */

/**
 * @typedef {object} ChatResult
 * @property {string} text
 * @property {string} reasoning
 * @property {string|null} finish_reason
 * @property {UsageEvent|null} usage
 * @property {{id: string|null, name: string|null, arguments: string}[]} tool_calls
 */

/**
 * @typedef {object} ChatCallbacks
 * @property {(delta: string, text: string) => void} [onText] each text delta and the text so far
 * @property {(event: RelayEvent) => void} [onEvent] every normalized event
 * @property {(result: ChatResult) => void} [onDone]
 * @property {(error: RelayError) => void} [onError]
 */

/**
 * Incremental parser for the WHATWG "event stream interpretation" algorithm
 * (HTML Living Standard, server-sent events). Feed it text or bytes in any
 * split; it returns the events completed by each piece.
 */
export class SSEParser {
  constructor() {
    /** Last event ID string, updated on every dispatch. */
    this.lastEventId = "";
    /** Reconnection time in ms from the last valid `retry` field, if any. @type {number|undefined} */
    this.retry = undefined;
    this._id = "";
    this._buf = ""; // the current, unterminated line
    this._data = "";
    this._type = "";
    this._cr = false; // the last piece ended in CR: skip one LF at the start of the next
    this._start = true; // no character seen yet: a leading BOM is still to be dropped
    /** @type {TextDecoder|null} */
    this._dec = null;
  }

  /**
   * Feed the next piece of the stream: a string, or bytes (UTF-8, decoded in
   * streaming mode so a character split across pieces is kept whole).
   * @param {string | Uint8Array} chunk
   * @returns {SSEEvent[]} events dispatched by this piece, in order
   */
  feed(chunk) {
    let s = typeof chunk === "string" ? chunk
      : (this._dec ||= new TextDecoder("utf-8", { ignoreBOM: true })).decode(chunk, { stream: true });
    /** @type {SSEEvent[]} */
    const out = [];
    if (!s) return out;
    if (this._start) {
      this._start = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    if (this._cr && s) {
      this._cr = false;
      if (s.charCodeAt(0) === 10) s = s.slice(1);
    }
    const buf = this._buf + s;
    const re = /\r\n|\r|\n/g;
    re.lastIndex = this._buf.length; // the old buffer holds no line break
    let pos = 0;
    for (let m; (m = re.exec(buf));) {
      if (m[0] === "\r" && re.lastIndex === buf.length) this._cr = true;
      this._line(buf.slice(pos, m.index), out);
      pos = re.lastIndex;
    }
    this._buf = buf.slice(pos);
    return out;
  }

  /**
   * End of stream: an incomplete event (no blank line yet) is discarded, as
   * the spec requires. The parser can then be fed a new stream.
   * @returns {SSEEvent[]} always empty
   */
  end() {
    this._buf = this._data = this._type = "";
    this._cr = false;
    this._start = true;
    this._dec = null;
    return [];
  }

  /** @private @param {string} line @param {SSEEvent[]} out */
  _line(line, out) {
    if (line === "") {
      this.lastEventId = this._id;
      if (this._data !== "") {
        const d = this._data;
        out.push({
          type: this._type || "message",
          data: d.endsWith("\n") ? d.slice(0, -1) : d,
          lastEventId: this.lastEventId,
        });
      }
      this._data = this._type = "";
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" comment, e.g. ": keep-alive"
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "event") this._type = value;
    else if (field === "data") this._data += value + "\n";
    else if (field === "id") { if (!value.includes("\0")) this._id = value; }
    else if (field === "retry") { if (/^[0-9]+$/.test(value)) this.retry = parseInt(value, 10); }
  }
}

/** An HTTP error, an `error` event, or a broken/aborted stream. */
export class RelayError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number|null, code?: string, type?: string|null, retryable?: boolean,
   *   retryAfter?: number|null, body?: unknown, cause?: unknown}} [o]
   */
  constructor(message, o = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = "RelayError";
    /** HTTP status when the request failed before the stream began, else null. */
    this.status = o.status ?? null;
    /** Machine-readable code, e.g. "rate_limited", "truncated", "aborted", "network_error". */
    this.code = o.code ?? "error";
    /** The error `type` the server gave, if any. @type {string|null} */
    this.type = o.type ?? null;
    /** Whether sending the same request again may succeed. */
    this.retryable = o.retryable ?? false;
    /** Seconds to wait before retrying (Retry-After header or `retry_after`), else null. */
    this.retryAfter = o.retryAfter ?? null;
    /** The parsed error body or event payload, if any. */
    this.body = o.body;
  }
}

const RETRYABLE_STATUS = [408, 425, 429, 500, 502, 503, 504];
const RESUME_DEFAULTS = { retries: 5, backoffMs: 250, maxBackoffMs: 4000 };

/**
 * The reconnect policy for `resumable`, or null when the stream is not resumable.
 * @param {boolean | {retries?: number, backoffMs?: number, maxBackoffMs?: number} | undefined} option
 */
function resumeSettings(option) {
  if (!option) return null;
  return { ...RESUME_DEFAULTS, ...(option === true ? {} : option) };
}

/** A dropped connection or a cut stream, which a resume can repair. @param {unknown} err */
const isResumable = (err) => err instanceof RelayError && (err.code === "network_error" || err.code === "truncated");

/** @param {number} ms @param {AbortSignal} [signal] */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(aborted(signal)); return; }
    const timer = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(undefined); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(aborted(signal)); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** @param {string|null} v @returns {number|null} seconds */
function parseRetryAfter(v) {
  if (v == null || (v = v.trim()) === "") return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/**
 * Builds a RelayError from an error object (HTTP body `error`, or event payload).
 * Fields the server gave win over the defaults in `d`.
 * @param {any} e
 * @param {{status?: number, code?: string, retryable?: boolean, retryAfter?: number|null}} [d]
 */
function errorFrom(e, d = {}) {
  if (!e || typeof e !== "object") e = { message: typeof e === "string" ? e : undefined };
  const code = e.code ?? e.type ?? d.code;
  return new RelayError(String(e.message || code || "error"), {
    status: d.status,
    code: code == null ? undefined : String(code),
    type: e.type ?? null,
    retryable: typeof e.retryable === "boolean" ? e.retryable : d.retryable,
    retryAfter: d.retryAfter ?? (typeof e.retry_after === "number" ? e.retry_after : null),
    body: e,
  });
}

/** @param {Response} res */
async function httpError(res) {
  let text = "";
  try { text = await res.text(); } catch { /* body unreadable */ }
  let j;
  try { j = JSON.parse(text); } catch { /* not JSON */ }
  const status = res.status;
  const e = j && typeof j === "object" ? ("error" in j ? j.error : j)
    : { message: text.slice(0, 500) || `HTTP ${status} ${res.statusText}`.trim() };
  return errorFrom(e, {
    status,
    code: `http_${status}`,
    retryable: RETRYABLE_STATUS.includes(status),
    retryAfter: parseRetryAfter(res.headers.get("retry-after")),
  });
}

/** @param {AbortSignal} [signal] @param {unknown} [cause] */
const aborted = (signal, cause) =>
  new RelayError("request aborted", { code: "aborted", cause: signal?.reason ?? cause });

/** @param {string} data @returns {any} a JSON object */
function parseJSON(data) {
  let j, cause;
  try { j = JSON.parse(data); } catch (e) { cause = e; }
  if (j && typeof j === "object") return j;
  throw new RelayError("malformed event data", { code: "protocol_error", cause, body: data });
}

/** @param {any} u */
const usage = (u) => ({
  type: "usage",
  prompt_tokens: u.prompt_tokens ?? 0,
  completion_tokens: u.completion_tokens ?? 0,
  total_tokens: u.total_tokens ?? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0),
  // The typed dialect sends these flat; OpenAI nests them in *_tokens_details.
  cached_tokens: u.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0,
  reasoning_tokens: u.reasoning_tokens ?? u.completion_tokens_details?.reasoning_tokens ?? 0,
});

/** @param {any} t */
const toolCall = (t) => ({
  type: "tool_call",
  index: t.index ?? 0,
  id: t.id ?? null,
  name: t.name ?? null,
  arguments_delta: t.arguments_delta ?? "",
});

/**
 * Returns a function turning one SSE event into normalized relay events.
 * @param {"openai"|"events"} dialect
 * @returns {(ev: SSEEvent) => any[]}
 */
function normalizer(dialect) {
  if (dialect === "events") {
    return (ev) => {
      const t = ev.type;
      if (t === "text_delta" || t === "thinking") return [{ type: t, content: String(parseJSON(ev.data).content ?? "") }];
      if (t === "tool_call") return [toolCall(parseJSON(ev.data))];
      if (t === "usage") return [usage(parseJSON(ev.data))];
      if (t === "done") return [{ type: "done", finish_reason: parseJSON(ev.data).finish_reason ?? null }];
      if (t === "error") throw errorFrom(parseJSON(ev.data));
      return []; // unknown event types are ignored
    };
  }
  /** @type {string|null} */
  let finish = null;
  return (ev) => {
    if (ev.data === "[DONE]") return [{ type: "done", finish_reason: finish }];
    // Like the official SDK: any event name carries a chunk; `error` (event or field) is fatal.
    const j = parseJSON(ev.data);
    if (j.error || ev.type === "error") throw errorFrom(j.error ?? j);
    const out = [];
    const c = Array.isArray(j.choices) ? j.choices[0] : null;
    const d = c && c.delta;
    if (d) {
      if (d.reasoning_content) out.push({ type: "thinking", content: String(d.reasoning_content) });
      if (d.content) out.push({ type: "text_delta", content: String(d.content) });
      for (const t of d.tool_calls || []) {
        out.push(toolCall({ index: t.index, id: t.id, name: t.function?.name, arguments_delta: t.function?.arguments }));
      }
    }
    if (c && c.finish_reason) finish = c.finish_reason;
    if (j.usage) out.push(usage(j.usage));
    return out;
  };
}

/**
 * Client for the relay. `stream()` yields the same normalized events for both
 * SSE dialects; errors of any kind are thrown as {@link RelayError}.
 */
export class RelayClient {
  /**
   * @param {{baseUrl?: string, apiKey?: string, getToken?: () => (string|null|undefined|Promise<string|null|undefined>),
   *   headers?: Record<string, string>, fetch?: typeof fetch}} [options]
   */
  constructor(options = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.getToken = options.getToken;
    this.headers = options.headers ?? {};
    this._fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * Sends one chat request and yields its events as they arrive. Ends after
   * the `done` event; throws RelayError on HTTP errors, `error` events, abort
   * (code "aborted"), network failure ("network_error"), malformed data
   * ("protocol_error") or a stream that ends without `done` ("truncated").
   * Leaving the loop early, or aborting `signal`, cancels the response body.
   * @param {StreamOptions} options
   * @returns {AsyncGenerator<RelayEvent, void, undefined>}
   */
  async *stream(options) {
    const { dialect = "events", signal } = options;
    if (signal?.aborted) throw aborted(signal);
    const openai = dialect === "openai";
    if (!openai && dialect !== "events") throw new TypeError(`unknown dialect: ${dialect}`);
    const messages = options.messages ?? (openai && options.prompt != null
      ? [{ role: "user", content: options.prompt }] : undefined);
    /** @type {Record<string, unknown>} */
    const body = { model: options.model };
    if (messages) body.messages = messages;
    else body.prompt = options.prompt;
    if (options.maxTokens != null) body.max_tokens = options.maxTokens;
    if (options.temperature != null) body.temperature = options.temperature;
    if (openai) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
    Object.assign(body, options.extraBody);

    /** @type {Record<string, string>} */
    const headers = {
      "Content-Type": "application/json",
      Accept: "text/event-stream",
      ...this.headers,
      ...options.headers,
    };
    const token = this.getToken ? await this.getToken() : this.apiKey;
    if (token) headers.Authorization = `Bearer ${token}`;
    const resume = resumeSettings(options.resumable);
    if (resume) headers["x-relay-resumable"] = "1";
    if (signal?.aborted) throw aborted(signal);

    const url = this.baseUrl + (openai ? "/api/v1/chat/completions" : "/api/chat");
    let res = await this._open(url, { method: "POST", headers, body: JSON.stringify(body), signal }, signal);
    const streamId = resume ? res.headers.get("x-relay-stream-id") : null;
    if (streamId) options.onStreamId?.(streamId);
    const normalize = normalizer(dialect);
    const progress = { lastEventId: "", failures: 0 };
    for (;;) {
      try {
        for await (const ev of this._read(res, normalize, signal, progress, options.onEventId)) {
          yield ev;
          if (ev.type === "done") return;
        }
        return;
      } catch (err) {
        if (!streamId || !resume || !isResumable(err) || signal?.aborted) {
          if (streamId && signal?.aborted) this.cancel(streamId).catch(() => {});
          throw err;
        }
        res = await this._reconnect(streamId, progress, resume, signal, /** @type {RelayError} */ (err));
      }
    }
  }

  /**
   * Resumes a resumable stream (on any instance) after the last event the
   * caller has, e.g. after a page reload; yields the rest like {@link RelayClient#stream}.
   * @param {ResumeOptions} options
   * @returns {AsyncGenerator<RelayEvent, void, undefined>}
   */
  async *resume(options) {
    const { dialect = "events", signal, streamId } = options;
    const progress = { lastEventId: String(options.lastEventId ?? ""), failures: 0 };
    try {
      const res = await this._open(this._streamUrl(streamId), {
        method: "GET", headers: await this._resumeHeaders(progress.lastEventId), signal,
      }, signal);
      if (res.status === 204) return; // nothing left: the stream had ended
      for await (const ev of this._read(res, normalizer(dialect), signal, progress, options.onEventId)) {
        yield ev;
        if (ev.type === "done") return;
      }
    } catch (err) {
      // A resumed stream's generation outlives this connection too, so aborting means cancel, as in stream().
      if (signal?.aborted) this.cancel(streamId).catch(() => {});
      throw err;
    }
  }

  /**
   * Stops a resumable stream's generation on the relay (DELETE /api/v1/streams/{id}).
   * @param {string} streamId
   * @returns {Promise<void>}
   */
  async cancel(streamId) {
    const res = await this._fetch(this._streamUrl(streamId), { method: "DELETE", headers: await this._resumeHeaders("") });
    if (res.status !== 204) throw await httpError(res);
  }

  /** @private @param {string} id */
  _streamUrl(id) {
    return `${this.baseUrl}/api/v1/streams/${encodeURIComponent(id)}`;
  }

  /** @private @param {string} lastEventId @returns {Promise<Record<string, string>>} */
  async _resumeHeaders(lastEventId) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "text/event-stream", ...this.headers };
    const token = this.getToken ? await this.getToken() : this.apiKey;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    return headers;
  }

  /**
   * Waits with backoff and reconnects to the resume route, until a retry
   * succeeds or the retries run out (then the last error is thrown).
   * @private
   * @param {string} streamId
   * @param {{lastEventId: string, failures: number}} progress
   * @param {{retries: number, backoffMs: number, maxBackoffMs: number}} resume
   * @param {AbortSignal|undefined} signal
   * @param {RelayError} error
   * @returns {Promise<Response>}
   */
  async _reconnect(streamId, progress, resume, signal, error) {
    for (;;) {
      if (progress.failures >= resume.retries) throw error;
      progress.failures += 1;
      await pause(Math.min(resume.maxBackoffMs, resume.backoffMs * 2 ** (progress.failures - 1)), signal);
      try {
        const headers = await this._resumeHeaders(progress.lastEventId);
        const res = await this._open(this._streamUrl(streamId), { method: "GET", headers, signal }, signal);
        if (res.status === 204) throw new RelayError("stream ended before completion", { code: "truncated" });
        return res;
      } catch (err) {
        if (signal?.aborted || !isResumable(err)) {
          if (signal?.aborted) this.cancel(streamId).catch(() => {});
          throw signal?.aborted ? aborted(signal, err) : err;
        }
        error = /** @type {RelayError} */ (err);
      }
    }
  }

  /**
   * Sends one request; the response once its status says the stream (or a 204) follows.
   * @private
   * @param {string} url
   * @param {RequestInit} init
   * @param {AbortSignal|undefined} signal
   * @returns {Promise<Response>}
   */
  async _open(url, init, signal) {
    const f = this._fetch;
    let res;
    try {
      res = await f(url, init);
    } catch (cause) {
      if (signal?.aborted) throw aborted(signal, cause);
      throw new RelayError(`network error: ${/** @type {Error} */ (cause)?.message ?? cause}`,
        { code: "network_error", retryable: true, cause });
    }
    if (signal?.aborted) {
      res.body?.cancel().catch(() => {});
      throw aborted(signal);
    }
    if (!res.ok) throw await httpError(res);
    if (res.status === 204) return res;
    const ctype = res.headers.get("content-type");
    if (!res.body || (ctype && !/^\s*text\/event-stream\b/i.test(ctype))) {
      res.body?.cancel().catch(() => {});
      throw new RelayError(`expected text/event-stream, got ${ctype}`, { code: "protocol_error", status: res.status });
    }
    return res;
  }

  /**
   * One response's normalized events; notes each event's id in `progress`.
   * @private
   * @param {Response} res
   * @param {(ev: SSEEvent) => any[]} normalize
   * @param {AbortSignal|undefined} signal
   * @param {{lastEventId: string, failures: number}} progress
   * @param {(eventId: string) => void} [onEventId]
   * @returns {AsyncGenerator<RelayEvent, void, undefined>}
   */
  async *_read(res, normalize, signal, progress, onEventId) {
    const reader = /** @type {ReadableStream<Uint8Array>} */ (res.body).getReader();
    const onAbort = () => { reader.cancel(signal?.reason).catch(() => {}); };
    signal?.addEventListener("abort", onAbort, { once: true });
    const parser = new SSEParser();
    let eof = false;
    try {
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (cause) {
          eof = true; // a failed stream needs no cancel
          if (signal?.aborted) throw aborted(signal, cause);
          throw new RelayError("stream interrupted", { code: "network_error", retryable: true, cause });
        }
        if (signal?.aborted) throw aborted(signal);
        if (r.done) { eof = true; break; }
        for (const sse of parser.feed(r.value)) {
          const events = normalize(sse);
          if (sse.lastEventId) { progress.lastEventId = sse.lastEventId; progress.failures = 0; }
          for (const ev of events) {
            yield ev;
            if (ev.type === "done") return;
            if (signal?.aborted) throw aborted(signal);
          }
          if (sse.lastEventId) onEventId?.(sse.lastEventId);
        }
      }
      parser.end();
      throw new RelayError("stream ended before completion", { code: "truncated", retryable: true });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!eof) reader.cancel().catch(() => {});
    }
  }

  /**
   * Callback convenience over {@link RelayClient#stream}. Resolves with the full
   * answer text. Without `onError` the promise rejects with the RelayError;
   * with it, `onError` gets the error and the promise resolves with the text
   * received so far.
   * @param {StreamOptions} options
   * @param {ChatCallbacks} [callbacks]
   * @returns {Promise<string>}
   */
  async chat(options, callbacks = {}) {
    const { onText, onEvent, onDone, onError } = callbacks;
    let text = "", reasoning = "";
    /** @type {string|null} */
    let finish = null;
    /** @type {UsageEvent|null} */
    let use = null;
    /** @type {{id: string|null, name: string|null, arguments: string}[]} */
    const toolCalls = [];
    try {
      for await (const ev of this.stream(options)) {
        onEvent?.(ev);
        if (ev.type === "text_delta") { text += ev.content; onText?.(ev.content, text); }
        else if (ev.type === "thinking") reasoning += ev.content;
        else if (ev.type === "tool_call") {
          const t = (toolCalls[ev.index] ||= { id: null, name: null, arguments: "" });
          t.id ??= ev.id; t.name ??= ev.name; t.arguments += ev.arguments_delta;
        } else if (ev.type === "usage") use = ev;
        else if (ev.type === "done") finish = ev.finish_reason;
      }
    } catch (err) {
      if (!onError) throw err;
      onError(/** @type {RelayError} */ (err));
      return text;
    }
    onDone?.({ text, reasoning, finish_reason: finish, usage: use, tool_calls: toolCalls.filter(Boolean) });
    return text;
  }
}
