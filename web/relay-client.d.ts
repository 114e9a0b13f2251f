// Type declarations for relay-client.js.

/** One dispatched server-sent event. */
export interface SSEEvent {
  /** The `event` field, or "message" when none was given. */
  type: string;
  /** The joined `data` lines (one "\n" between lines, none at the end). */
  data: string;
  /** The last event ID at dispatch time. */
  lastEventId: string;
}

/**
 * Incremental parser for the WHATWG "event stream interpretation" algorithm.
 * Feed it text or UTF-8 bytes in any split; it returns the events each piece completes.
 */
export declare class SSEParser {
  constructor();
  /** Last event ID string, updated on every dispatch. */
  lastEventId: string;
  /** Reconnection time in ms from the last valid `retry` field. */
  retry: number | undefined;
  /** Feeds the next piece of the stream; bytes are decoded as streaming UTF-8. */
  feed(chunk: string | Uint8Array): SSEEvent[];
  /** End of stream: discards an unterminated event; the parser can take a new stream. */
  end(): SSEEvent[];
}

export interface RelayErrorOptions {
  status?: number | null;
  code?: string;
  type?: string | null;
  retryable?: boolean;
  retryAfter?: number | null;
  body?: unknown;
  cause?: unknown;
}

/** An HTTP error, an `error` event, or a broken/aborted stream. */
export declare class RelayError extends Error {
  constructor(message: string, options?: RelayErrorOptions);
  name: "RelayError";
  /** HTTP status when the request failed before the stream began, else null. */
  status: number | null;
  /**
   * Machine-readable code: the server's code (e.g. "rate_limited"), `http_<status>`
   * when an HTTP error body has none, or one of the client's own codes.
   */
  code: "aborted" | "truncated" | "network_error" | "protocol_error" | (string & {});
  /** The error `type` the server gave, if any. */
  type: string | null;
  /** Whether sending the same request again may succeed. */
  retryable: boolean;
  /** Seconds to wait before retrying (Retry-After header or `retry_after`), else null. */
  retryAfter: number | null;
  /** The parsed error body or event payload, if any. */
  body: unknown;
}

export interface TextDeltaEvent {
  type: "text_delta";
  content: string;
}
export interface ThinkingEvent {
  type: "thinking";
  content: string;
  /** Opaque; closes the block of reasoning before it. Present only when the provider signed it. */
  signature?: string;
  /** Opaque encrypted reasoning (base64), a block with no readable text. */
  redacted?: string;
  /** The provider family that issued `signature` or `redacted` ("bedrock", "google"). */
  provider?: string;
}
export interface ToolCallEvent {
  type: "tool_call";
  index: number;
  /** Set on a call's first fragment, else null. */
  id: string | null;
  /** Set on a call's first fragment, else null. */
  name: string | null;
  /** The next piece of the JSON arguments string, possibly empty. */
  arguments_delta: string;
  /** Gemini's opaque thought signature for this call; send it back as the call's extra_content.google.thought_signature. */
  signature?: string;
}
export interface UsageEvent {
  type: "usage";
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens read from the provider's prompt cache; part of prompt_tokens. 0 when not reported. */
  cached_tokens: number;
  /** Tokens the model spent reasoning; part of completion_tokens. 0 when not reported. */
  reasoning_tokens: number;
}
export interface DoneEvent {
  type: "done";
  finish_reason: string | null;
}
/** Normalized events, the same for both dialects. Errors are thrown as RelayError. */
export type RelayEvent = TextDeltaEvent | ThinkingEvent | ToolCallEvent | UsageEvent | DoneEvent;

export type Dialect = "openai" | "events";

export interface ChatMessage {
  role: string;
  content: unknown;
  [key: string]: unknown;
}

export interface StreamOptions {
  /** Wire dialect; default "events" (POST /api/chat). "openai" is POST /api/v1/chat/completions. */
  dialect?: Dialect;
  model: string;
  messages?: ChatMessage[];
  /** Used when `messages` is absent. */
  prompt?: string;
  /** Sent as `max_tokens`. */
  maxTokens?: number;
  temperature?: number;
  /** Extra JSON body fields. */
  extraBody?: Record<string, unknown>;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborting cancels the request and the response body (the connection closes), and a resumable stream's generation. */
  signal?: AbortSignal;
  /**
   * Send `x-relay-resumable: 1`; on a network error or a cut stream, resume after the last event received
   * (GET /api/v1/streams/{id} with Last-Event-ID), on whichever instance answers.
   */
  resumable?: boolean | ResumePolicy;
  /** The resumable stream's id (`x-relay-stream-id`), once the response starts: keep it to resume after a reload. */
  onStreamId?: (streamId: string) => void;
  /**
   * Each SSE event's `id`, once every event it carried has been yielded: save it with what was applied,
   * and a resume after it (e.g. after a reload) continues exactly there.
   */
  onEventId?: (eventId: string) => void;
}

export interface ResumePolicy {
  /** Reconnects in a row without a new event before giving up; default 5. */
  retries?: number;
  /** First pause before a reconnect, doubling each time; default 250 ms. */
  backoffMs?: number;
  /** Longest pause; default 4000 ms. */
  maxBackoffMs?: number;
}

export interface ResumeOptions {
  /** `x-relay-stream-id` of the original response. */
  streamId: string;
  /** The last event id received; absent: from the start. */
  lastEventId?: string | number;
  /** The original request's dialect; default "events". */
  dialect?: Dialect;
  /** Aborting stops reading and cancels the stream's generation (DELETE), as for stream(). */
  signal?: AbortSignal;
  /** As for StreamOptions. */
  onEventId?: (eventId: string) => void;
}

export interface ToolCallResult {
  id: string | null;
  name: string | null;
  arguments: string;
}

export interface ChatResult {
  text: string;
  reasoning: string;
  finish_reason: string | null;
  usage: UsageEvent | null;
  tool_calls: ToolCallResult[];
}

export interface ChatCallbacks {
  /** Each text delta, and the text so far. */
  onText?: (delta: string, text: string) => void;
  /** Every normalized event. */
  onEvent?: (event: RelayEvent) => void;
  onDone?: (result: ChatResult) => void;
  /** With onError, errors go here and chat() resolves with the text so far. */
  onError?: (error: RelayError) => void;
}

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface RelayClientOptions {
  /** Origin (and optional path prefix) of the relay; "" for same-origin. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Called per request; its token wins over apiKey. */
  getToken?: TokenSource;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Replacement for globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

export declare class RelayClient {
  constructor(options?: RelayClientOptions);
  baseUrl: string;
  apiKey: string | undefined;
  getToken: TokenSource | undefined;
  headers: Record<string, string>;
  /**
   * Sends one chat request and yields its events as they arrive; ends after `done`.
   * Throws RelayError on HTTP errors, `error` events, abort ("aborted"), network
   * failure ("network_error"), malformed data ("protocol_error") or a stream that
   * ends without `done` ("truncated"). Leaving the loop early cancels the body.
   */
  stream(options: StreamOptions): AsyncGenerator<RelayEvent, void, undefined>;
  /**
   * Callback convenience over stream(); resolves with the full answer text.
   * Without onError the promise rejects with the RelayError.
   */
  chat(options: StreamOptions, callbacks?: ChatCallbacks): Promise<string>;
  /** Resumes a resumable stream after `lastEventId` (e.g. after a page reload); yields the rest like stream(). */
  resume(options: ResumeOptions): AsyncGenerator<RelayEvent, void, undefined>;
  /** Stops a resumable stream's generation on the relay (DELETE /api/v1/streams/{id}). */
  cancel(streamId: string): Promise<void>;
}
