// Plain words for the relay's error codes, so a failed reply says what happened
// and whether trying again can help, instead of echoing a machine code alone.

/** What each code means to a person reading the chat. @type {Record<string, string>} */
const WORDS = {
  invalid_api_key: "The relay did not accept the key.",
  forbidden: "This key or token may not do that.",
  model_not_allowed: "This key or token may not use that model.",
  model_not_found: "The relay has no model by that name.",
  invalid_request: "The relay refused the request as malformed.",
  payload_too_large: "The conversation is too long to send.",
  rate_limit_exceeded: "Too many requests: the model is rate limited.",
  insufficient_quota: "The quota for this key is used up.",
  request_timeout: "The request took too long to arrive.",
  upstream_unavailable: "The model provider could not be reached.",
  upstream_timeout: "The model provider took too long to answer.",
  upstream_error: "The model provider failed.",
  upstream_rejected: "The model provider refused the request.",
  upstream_auth_failed: "The relay's own credentials were refused by the provider.",
  upstream_disconnected: "The model provider dropped the connection mid-answer.",
  upstream_truncated: "The model provider's answer was cut off.",
  upstream_protocol_error: "The model provider sent something the relay could not read.",
  model_stream_error: "The model stopped with an error mid-answer.",
  server_error: "The model provider failed mid-answer.",
  internal_error: "The relay failed unexpectedly.",
  network_error: "The connection to the relay was lost.",
  truncated: "The answer ended before it was complete.",
  protocol_error: "The relay sent something this page could not read.",
  aborted: "Stopped.",
  token_unavailable: "The page's backend could not provide a browser token.",
  not_found: "The rest of this answer could not be resumed: the relay no longer has it (expired, restarted, or started with another key).",
  stream_lost: "The rest of this answer was lost: the relay instance generating it stopped.",
  stream_cancelled: "This answer was cancelled.",
  stream_detached_limit: "The relay stopped generating this answer: nobody read it for too long.",
  stream_store_unavailable: "The relay could not record this answer for resuming.",
};

/** Codes that mean a resumed answer is gone; sending the prompt again is what helps. */
const GONE = new Set(["not_found", "stream_lost", "stream_detached_limit"]);

/** @typedef {{code: string, message: string, status: number|null, retryable: boolean, retryAfter: number|null}} ErrorRecord */

/**
 * The fields of a RelayError (or anything thrown) worth keeping in the transcript.
 * @param {unknown} err
 * @returns {ErrorRecord}
 */
export function errorRecord(err) {
  const e = /** @type {any} */ (err);
  return {
    code: typeof e?.code === "string" ? e.code : "error",
    message: err instanceof Error ? err.message : String(err),
    status: typeof e?.status === "number" ? e.status : null,
    retryable: e?.retryable === true,
    retryAfter: typeof e?.retryAfter === "number" ? e.retryAfter : null,
  };
}

/** @param {ErrorRecord} error @returns {string} what happened, in plain words */
export function headline(error) {
  if (WORDS[error.code]) return WORDS[error.code];
  if (error.status === 401) return WORDS.invalid_api_key;
  if (error.status === 403) return WORDS.forbidden;
  if (error.status === 429) return WORDS.rate_limit_exceeded;
  return "The request failed.";
}

/** @param {ErrorRecord} error @returns {string} whether and when trying again can help */
export function retryAdvice(error) {
  if (GONE.has(error.code)) return "Retry asks the model again from the start.";
  if (!error.retryable) return "Retrying the same request will not help.";
  if (error.retryAfter != null) return `Retrying may work after ${error.retryAfter} s.`;
  return "Retrying may work.";
}

/** @param {ErrorRecord} error @returns {boolean} whether the key or token is the problem */
export const isCredentialError = (error) =>
  error.status === 401 || error.code === "invalid_api_key" || error.code === "token_unavailable";
