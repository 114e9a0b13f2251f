"""The bytes Vertex AI puts on the wire: response chunks, SSE framing, error bodies.

Kept apart from the ASGI app so each quirk is written down once, next to why
it exists. The quirks reproduced here, because a relay has to cope with them:

* native ``streamGenerateContent?alt=sse`` frames end in ``\\r\\n\\r\\n``, not
  ``\\n\\n``, and the stream has no ``[DONE]`` sentinel;
* every native chunk carries ``usageMetadata`` with only ``trafficType``; the
  token counts arrive on the final chunk alone;
* Gemini sends each function call whole, with ``args`` as a JSON object, and
  reports ``finishReason: STOP`` even when it stops to call a tool;
* errors from a streaming method come as a one-element JSON array, and
  Google pretty-prints its error JSON;
* the OpenAI-compatible endpoint repeats ``role`` in every delta, puts
  ``finish_reason`` and ``usage`` on the last content chunk (no separate
  usage-only chunk) and re-serialises tool-call arguments compactly;
* that endpoint finishes a streamed turn that called tools with ``stop``, the
  same turn unstreamed with ``tool_calls`` (googleapis/python-genai#2868).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .scenario import Scenario, ToolCallScript
from .vertex_signatures import signed_native_parts, signed_openai_call

NATIVE_SEPARATOR = b"\r\n\r\n"
OPENAI_SEPARATOR = b"\n\n"
OPENAI_DONE = b"data: [DONE]" + OPENAI_SEPARATOR
TRAFFIC_TYPE = "ON_DEMAND"
JSON_TYPE = "application/json; charset=UTF-8"

# HTTP status -> (google.rpc status, the message Vertex typically sends).
GOOGLE_STATUSES: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied on resource (or it may not exist)."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    409: ("ABORTED", "The operation was aborted."),
    429: (
        "RESOURCE_EXHAUSTED",
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    ),
    499: ("CANCELLED", "The operation was cancelled."),
    500: ("INTERNAL", "Internal error encountered."),
    501: ("UNIMPLEMENTED", "Operation is not implemented, or supported, or enabled."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}
_CODE_BY_STATUS = {status: code for code, (status, _) in GOOGLE_STATUSES.items()}

# Gemini finish reasons -> what the OpenAI-compatible endpoint reports.
OPENAI_FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}


@dataclass(frozen=True)
class ResponseMeta:
    """Identity shared by every chunk of one response."""

    model: str
    response_id: str = field(default_factory=lambda: new_response_id())
    created: float = field(default_factory=time.time)

    @property
    def create_time(self) -> str:
        """RFC 3339 with microseconds, as in ``createTime``."""
        moment = datetime.fromtimestamp(self.created, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_response_id() -> str:
    """An opaque 22-character id like Vertex's ``responseId``."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


# ---------------------------------------------------------------- errors


def upfront_error(scenario: Scenario) -> dict[str, Any]:
    """The body of a scripted non-200 answer; ``error_code`` overrides the status name."""
    status, message = GOOGLE_STATUSES.get(scenario.status, ("UNKNOWN", "Unknown error."))
    return google_error(scenario.status, scenario.error_message or message, scenario.error_code or status)


def midstream_error(scenario: Scenario) -> dict[str, Any]:
    """The error event of ``error_after``: INTERNAL unless ``error_code`` names a status."""
    code = _CODE_BY_STATUS.get(scenario.error_code or "", 500)
    status, message = GOOGLE_STATUSES[code]
    return google_error(code, scenario.error_message or message, scenario.error_code or status)


def google_error(code: int, message: str, status: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``{"error": {...}}`` document every Google API answers with."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INVALID_CREDENTIALS = GOOGLE_STATUSES[401][1]


def unauthenticated_error(reason: str, message: str, rpc_method: str) -> dict[str, Any]:
    """The 401 body of Google's front end, with the ErrorInfo naming why."""
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "aiplatform.googleapis.com", "method": rpc_method},
    }
    return google_error(401, message, "UNAUTHENTICATED", [info])


def pretty(document: Any) -> bytes:
    """Google's JSON style for whole responses: two-space indent, UTF-8."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def pretty_array(document: Any) -> bytes:
    """A one-element array the way a streaming method wraps its error body."""
    return b"[" + pretty(document) + b"\n]"


# ---------------------------------------------------------------- native


def tool_args(call: ToolCallScript) -> dict[str, Any]:
    """The scripted arguments as the JSON object Gemini sends in ``args``."""
    try:
        parsed = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return {"_raw": call.arguments}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def visible_pieces(scenario: Scenario) -> list[str]:
    """The text deltas actually sent: a filtered answer stops halfway, where the filter tripped."""
    pieces = scenario.text_pieces()
    return pieces[: len(pieces) // 2] if scenario.content_filter else pieces


def native_finish_reason(scenario: Scenario) -> str:
    """Verbatim when scripted; SAFETY for a filtered answer; STOP otherwise, tools included."""
    if scenario.finish_reason:
        return scenario.finish_reason
    return "SAFETY" if scenario.content_filter else "STOP"


def native_usage(scenario: Scenario, prompt_chars: int) -> dict[str, Any]:
    """The final chunk's ``usageMetadata``; thoughts count toward the total."""
    if scenario.malformed_usage:
        return {"promptTokenCount": "x", "candidatesTokenCount": None, "trafficType": TRAFFIC_TYPE}
    prompt, completion = scenario.usage(prompt_chars)
    thoughts = len(scenario.reasoning_pieces())
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion + thoughts,
        "trafficType": TRAFFIC_TYPE,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": completion}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    cached = scenario.cache_counts(prompt)[0]
    if cached:
        # promptTokenCount already includes the cached part, and Gemini omits a zero count.
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    return usage


def _native_parts(scenario: Scenario) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": piece, "thought": True} for piece in scenario.reasoning_pieces()]
    parts += [{"text": piece} for piece in visible_pieces(scenario)]
    parts += [{"functionCall": {"name": call.name, "args": tool_args(call)}} for call in scenario.tool_calls]
    return signed_native_parts(parts, scenario) or [{"text": ""}]


def _native_response(meta: ResponseMeta, candidate: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": meta.model,
        "createTime": meta.create_time,
        "responseId": meta.response_id,
    }


def _finish_candidate(candidate: dict[str, Any], scenario: Scenario) -> None:
    candidate["finishReason"] = native_finish_reason(scenario)
    if scenario.content_filter:
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]


def native_chunks(scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> list[dict[str, Any]]:
    """One GenerateContentResponse per part; the last one finishes and counts."""
    chunks = []
    for part in _native_parts(scenario):
        candidate = {"content": {"role": "model", "parts": [part]}}
        chunks.append(_native_response(meta, candidate, {"trafficType": TRAFFIC_TYPE}))
    _finish_candidate(chunks[-1]["candidates"][0], scenario)
    chunks[-1]["usageMetadata"] = native_usage(scenario, prompt_chars)
    return chunks


def native_response(scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> dict[str, Any]:
    """The non-streaming ``generateContent`` answer: parts merged by kind."""
    parts: list[dict[str, Any]] = []
    if scenario.reasoning:
        parts.append({"text": scenario.reasoning, "thought": True})
    if text := "".join(visible_pieces(scenario)):
        parts.append({"text": text})
    parts += [{"functionCall": {"name": call.name, "args": tool_args(call)}} for call in scenario.tool_calls]
    parts = signed_native_parts(parts, scenario)
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or [{"text": ""}]}}
    _finish_candidate(candidate, scenario)
    return _native_response(meta, candidate, native_usage(scenario, prompt_chars))


def native_sse(document: Any) -> bytes:
    """One ``alt=sse`` event: compact JSON, raw UTF-8, CRLF CRLF."""
    return b"data: " + json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + NATIVE_SEPARATOR


def native_array_frames(documents: list[dict[str, Any]]) -> list[bytes]:
    """The stream without ``alt=sse``: one JSON array written element by element."""
    frames = [(b"[" if index == 0 else b",\r\n") + pretty(doc) for index, doc in enumerate(documents)]
    frames[-1] += b"\n]"
    return frames


# ---------------------------------------------------------------- OpenAI-compatible


def openai_finish_reason(scenario: Scenario, streamed: bool) -> str:
    """Gemini reasons translated; anything else scripted passes verbatim; streamed tool calls say ``stop``."""
    if scenario.finish_reason:
        return OPENAI_FINISH_REASONS.get(scenario.finish_reason, scenario.finish_reason)
    if scenario.content_filter:
        return "content_filter"
    return "tool_calls" if scenario.tool_calls and not streamed else "stop"


def openai_usage(scenario: Scenario, prompt_chars: int) -> dict[str, Any]:
    """``usage`` with reasoning folded into completion tokens, as OpenAI counts it."""
    if scenario.malformed_usage:
        return {"completion_tokens": None, "prompt_tokens": "x", "total_tokens": None}
    prompt, completion = scenario.usage(prompt_chars)
    thoughts = len(scenario.reasoning_pieces())
    usage: dict[str, Any] = {
        "completion_tokens": completion + thoughts,
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion + thoughts,
    }
    if thoughts:
        usage["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    cached = scenario.cache_counts(prompt)[0]
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def openai_tool_call(call: ToolCallScript, index: int) -> dict[str, Any]:
    """A whole tool call; arguments re-serialised from the object Gemini produced."""
    arguments = json.dumps(tool_args(call), ensure_ascii=False, separators=(",", ":"))
    return {
        "function": {"arguments": arguments, "name": call.name},
        "id": call.id or f"call_{os.urandom(6).hex()}",
        "index": index,
        "type": "function",
    }


def _openai_deltas(scenario: Scenario) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"reasoning_content": piece} for piece in scenario.reasoning_pieces()]
    deltas += [{"content": piece} for piece in visible_pieces(scenario)]
    calls = [signed_openai_call(openai_tool_call(call, i), scenario) for i, call in enumerate(scenario.tool_calls)]
    deltas += [{"tool_calls": [call]} for call in calls]
    return deltas or [{"content": ""}]


def _openai_envelope(meta: ResponseMeta, obj: str, choice: dict[str, Any]) -> dict[str, Any]:
    return {
        "choices": [choice],
        "created": int(meta.created),
        "id": meta.response_id,
        "model": meta.model,
        "object": obj,
        "system_fingerprint": "",
    }


def openai_chunks(scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` documents; the last carries finish_reason and usage."""
    chunks = [
        _openai_envelope(meta, "chat.completion.chunk", {"delta": {"role": "assistant", **delta}, "index": 0})
        for delta in _openai_deltas(scenario)
    ]
    chunks[-1]["choices"][0]["finish_reason"] = openai_finish_reason(scenario, streamed=True)
    chunks[-1]["usage"] = openai_usage(scenario, prompt_chars)
    return chunks


def openai_completion(scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` document."""
    message: dict[str, Any] = {"content": "".join(visible_pieces(scenario)) or None, "role": "assistant"}
    if scenario.reasoning:
        message["reasoning_content"] = scenario.reasoning
    if scenario.tool_calls:
        calls = enumerate(scenario.tool_calls)
        message["tool_calls"] = [signed_openai_call(openai_tool_call(call, i), scenario) for i, call in calls]
    finish = openai_finish_reason(scenario, streamed=False)
    choice = {"finish_reason": finish, "index": 0, "logprobs": None, "message": message}
    completion = _openai_envelope(meta, "chat.completion", choice)
    completion["usage"] = openai_usage(scenario, prompt_chars)
    return completion


def openai_sse(document: Any) -> bytes:
    """One OpenAI-style event: keys sorted (Vertex emits them alphabetically), LF LF."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return b"data: " + body.encode() + OPENAI_SEPARATOR


# ---------------------------------------------------------------- assembly


@dataclass(frozen=True)
class Wire:
    """Everything ``play()`` needs for one response."""

    frames: list[bytes]
    error_frames: list[bytes]
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    malformed_frames: tuple[bytes, ...] = ()


# Responses cut off mid-JSON, as a truncated write delivers them, per wire format.
OPENAI_MALFORMED = b'data: {"choices":[{"delta":{"content":' + OPENAI_SEPARATOR
NATIVE_MALFORMED = b'{"candidates":[{"content":{"role":"model","parts":[{"text":'


def malformed_frames(kind: str) -> tuple[bytes, ...]:
    """The corrupt frame ``malformed_after`` slips into a response of this format."""
    if kind == "openai-stream":
        return (OPENAI_MALFORMED,)
    if kind == "native-sse":
        return (b"data: " + NATIVE_MALFORMED + NATIVE_SEPARATOR,)
    return (NATIVE_MALFORMED,)


def wire_frames(kind: str, scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> Wire:
    """The frames of one of the five formats: openai-stream, openai, native-sse, native-array, native."""
    wire = _wire_frames(kind, scenario, meta, prompt_chars)
    return replace(wire, malformed_frames=malformed_frames(kind))


def _wire_frames(kind: str, scenario: Scenario, meta: ResponseMeta, prompt_chars: int) -> Wire:
    error = midstream_error(scenario)
    if kind == "openai-stream":
        frames = [openai_sse(chunk) for chunk in openai_chunks(scenario, meta, prompt_chars)]
        return Wire([*frames, OPENAI_DONE], [openai_sse(error)], "text/event-stream")
    if kind == "openai":
        body = json.dumps(openai_completion(scenario, meta, prompt_chars), ensure_ascii=False, sort_keys=True)
        return Wire([body.encode()], [pretty(error)], JSON_TYPE)
    if kind == "native-sse":
        frames = [native_sse(chunk) for chunk in native_chunks(scenario, meta, prompt_chars)]
        return Wire(frames, [native_sse(error)], "text/event-stream", (("content-disposition", "attachment"),))
    if kind == "native-array":
        opener = b"[" if scenario.error_after == 0 else b",\r\n"
        frames = native_array_frames(native_chunks(scenario, meta, prompt_chars))
        return Wire(frames, [opener + pretty(error) + b"\n]"], JSON_TYPE)
    return Wire([pretty(native_response(scenario, meta, prompt_chars))], [pretty(error)], JSON_TYPE)
