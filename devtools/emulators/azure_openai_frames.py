"""The JSON documents Azure OpenAI sends for chat completions, built from a scenario.

Everything here is pure: a scenario goes in, dicts and SSE frames come out, so
the wire format can be checked byte for byte without a server.

Facts about the real service that the relay has to survive, and that these
builders reproduce on purpose:

* Object keys arrive in alphabetical order (``choices``, ``created``, ``id``,
  ...), except inside ``prompt_filter_results`` where ``prompt_index`` comes
  first, and inside ``jailbreak`` where ``filtered`` comes before ``detected``.
* The first stream frame is not a chat chunk at all: ``id``, ``model`` and
  ``object`` are empty strings, ``created`` is 0 and ``choices`` is empty; it
  only carries the prompt's content-filter verdict.
* Content chunks carry per-choice ``content_filter_results``; the role chunk,
  tool-call chunks and the finish chunk carry an empty ``{}`` instead.
* ``usage`` is absent from chunks unless the request asked for
  ``stream_options.include_usage``; then every chat chunk has ``"usage":null``
  and one extra chunk with empty ``choices`` carries the totals.
* Reasoning text is never streamed by Azure chat completions, only counted in
  ``usage.completion_tokens_details.reasoning_tokens``; the emulator does the
  same with ``scenario.reasoning``.
* Non-ASCII text is sent as raw UTF-8, not ``\\u`` escapes.
"""

from __future__ import annotations

import json
import math
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from .scenario import Scenario, ToolCallScript, split_text

MODEL = "gpt-4o-2024-11-20"
SYSTEM_FINGERPRINT = "fp_3f2c0e5d9a"
DONE = b"data: [DONE]\n\n"
# A chunk cut off mid-JSON, as a broken proxy or a truncated write delivers it.
MALFORMED_FRAME = b'data: {"choices":[{"content_filter_results":{},"delta":{"content":\n\n'
# Token counts of the wrong types, the shape an OpenAI-compatible gateway has been seen to send.
MALFORMED_USAGE: dict[str, Any] = {"completion_tokens": None, "prompt_tokens": "x", "total_tokens": None}
CATEGORIES = ("hate", "self_harm", "sexual", "violence")
FLAGGED_CATEGORY = "hate"

_ALPHANUMERIC = string.ascii_letters + string.digits


def random_id(prefix: str, length: int) -> str:
    """An id shaped like the service's (``chatcmpl-`` + 29, ``call_`` + 24 characters)."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def compact_json(document: Any) -> bytes:
    """JSON the way the service writes it: no spaces, raw UTF-8 rather than ``\\u`` escapes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def sse(document: Any) -> bytes:
    """One SSE frame exactly as Azure writes it: ``data: {json}`` and a blank line."""
    return b"data: " + compact_json(document) + b"\n\n"


@dataclass(frozen=True)
class Reply:
    """What one completion says, decided once so streamed and plain replies agree."""

    pieces: list[str]
    tool_calls: list[tuple[str, ToolCallScript]]
    finish_reason: str
    filtered: bool
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    malformed_usage: bool = False
    cached_tokens: int = 0
    id: str = field(default_factory=lambda: random_id("chatcmpl-", 29))
    created: int = field(default_factory=lambda: int(time.time()))
    model: str = MODEL

    @property
    def text(self) -> str:
        """The visible content, as the client should reassemble it."""
        return "".join(self.pieces)


def plan_reply(scenario: Scenario, prompt_chars: int) -> Reply:
    """Decide the content, tool calls, finish reason and token counts of one reply.

    A content-filtered reply stops halfway through the text, because the
    service cuts generation at the point the filter trips.
    """
    pieces = scenario.text_pieces()
    if scenario.content_filter:
        pieces = pieces[: len(pieces) // 2]
    calls = [(script.id or random_id("call_", 24), script) for script in scenario.tool_calls]
    prompt, completion = scenario.usage(prompt_chars)
    reasoning = math.ceil(len(scenario.reasoning) / 4)
    return Reply(
        pieces=pieces,
        tool_calls=calls,
        finish_reason=_finish_reason(scenario),
        filtered=scenario.content_filter,
        prompt_tokens=prompt,
        completion_tokens=completion + reasoning,
        reasoning_tokens=reasoning,
        malformed_usage=scenario.malformed_usage,
        cached_tokens=scenario.cache_counts(prompt)[0],
    )


def _finish_reason(scenario: Scenario) -> str:
    if scenario.content_filter:
        return "content_filter"
    if scenario.finish_reason:
        return scenario.finish_reason
    return "tool_calls" if scenario.tool_calls else "stop"


def category_results(flagged: str | None = None) -> dict[str, Any]:
    """Per-category verdicts; ``flagged`` marks one category as filtered."""
    results: dict[str, Any] = {}
    for name in CATEGORIES:
        results[name] = (
            {"filtered": True, "severity": "medium"} if name == flagged else {"filtered": False, "severity": "safe"}
        )
    return results


def prompt_filter_results(flagged: str | None = None) -> list[dict[str, Any]]:
    """The prompt verdict list, in the service's own (non-alphabetical) key order."""
    results = category_results(flagged)
    verdict = {
        "hate": results["hate"],
        "jailbreak": {"filtered": False, "detected": False},
        "self_harm": results["self_harm"],
        "sexual": results["sexual"],
        "violence": results["violence"],
    }
    return [{"prompt_index": 0, "content_filter_results": verdict}]


def usage_document(reply: Reply) -> dict[str, Any]:
    """The ``usage`` object with the detail blocks current API versions return."""
    if reply.malformed_usage:
        return dict(MALFORMED_USAGE)
    return {
        "completion_tokens": reply.completion_tokens,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": reply.reasoning_tokens,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens": reply.prompt_tokens,
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": reply.cached_tokens},
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


# --------------------------------------------------------------------------- streaming


def prompt_filter_chunk() -> dict[str, Any]:
    """The frame Azure sends before any chat chunk: empty identity, prompt verdict only."""
    return {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": prompt_filter_results(),
    }


def chat_chunk(
    reply: Reply,
    choices: list[dict[str, Any]],
    include_usage: bool,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` envelope around ``choices``."""
    document: dict[str, Any] = {
        "choices": choices,
        "created": reply.created,
        "id": reply.id,
        "model": reply.model,
        "object": "chat.completion.chunk",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if include_usage:
        document["usage"] = usage
    return document


def choice_delta(
    delta: dict[str, Any], filter_results: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    """One streamed choice, keys in the service's order."""
    return {
        "content_filter_results": filter_results,
        "delta": delta,
        "finish_reason": finish_reason,
        "index": 0,
        "logprobs": None,
    }


def stream_deltas(reply: Reply) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every ``(delta, content_filter_results)`` pair before the finish chunk.

    Content precedes tool calls. With no content, the first tool call rides on
    the role delta with ``"content": null``, as the service sends it.
    """
    text = [({"content": piece}, category_results()) for piece in reply.pieces]
    tools: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for index, (call_id, script) in enumerate(reply.tool_calls):
        tools += [(delta, {}) for delta in tool_call_deltas(index, call_id, script)]
    if not text and tools:
        first_tool, _ = tools.pop(0)
        role = {"content": None, "refusal": None, "role": "assistant", **first_tool}
    else:
        role = {"content": "", "refusal": None, "role": "assistant"}
    return [(role, {}), *text, *tools]


def tool_call_deltas(index: int, call_id: str, script: ToolCallScript) -> list[dict[str, Any]]:
    """A tool call as the service streams it: a header with empty arguments, then fragments."""
    head = {"function": {"arguments": "", "name": script.name}, "id": call_id, "index": index, "type": "function"}
    deltas = [{"tool_calls": [head]}]
    pieces = max(1, min(script.pieces, len(script.arguments)))
    for fragment in split_text(script.arguments, pieces):
        deltas.append({"tool_calls": [{"function": {"arguments": fragment}, "index": index}]})
    return deltas


def stream_frames(reply: Reply, include_usage: bool) -> list[bytes]:
    """The whole SSE body of a successful streamed completion, ``[DONE]`` included."""
    frames = [sse(prompt_filter_chunk())]
    for delta, filters in stream_deltas(reply):
        frames.append(sse(chat_chunk(reply, [choice_delta(delta, filters)], include_usage)))
    finish_filters = category_results(FLAGGED_CATEGORY) if reply.filtered else {}
    finish = choice_delta({}, finish_filters, reply.finish_reason)
    frames.append(sse(chat_chunk(reply, [finish], include_usage)))
    if include_usage:
        frames.append(sse(chat_chunk(reply, [], include_usage, usage_document(reply))))
    frames.append(DONE)
    return frames


def stream_error_frame(scenario: Scenario) -> bytes:
    """The error event the service writes when generation fails mid-stream (no ``[DONE]`` follows)."""
    return sse(
        {
            "error": {
                "code": scenario.error_code or "server_error",
                "message": scenario.error_message
                or "The server had an error while processing your request. Sorry about that!",
                "param": None,
                "type": "server_error",
            }
        }
    )


# --------------------------------------------------------------------------- non-streaming


def completion_document(reply: Reply) -> dict[str, Any]:
    """The single ``chat.completion`` object of a non-streamed request."""
    message: dict[str, Any] = {
        "annotations": [],
        "content": reply.text if reply.pieces or not reply.tool_calls else None,
        "refusal": None,
        "role": "assistant",
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {"function": {"arguments": script.arguments, "name": script.name}, "id": call_id, "type": "function"}
            for call_id, script in reply.tool_calls
        ]
    choice = {
        "content_filter_results": category_results(FLAGGED_CATEGORY if reply.filtered else None),
        "finish_reason": reply.finish_reason,
        "index": 0,
        "logprobs": None,
        "message": message,
    }
    return {
        "choices": [choice],
        "created": reply.created,
        "id": reply.id,
        "model": reply.model,
        "object": "chat.completion",
        "prompt_filter_results": prompt_filter_results(),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "usage": usage_document(reply),
    }


# --------------------------------------------------------------------------- error bodies

ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
CONTENT_MANAGEMENT = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
    "Please modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)


def azure_error(code: str, message: str) -> dict[str, Any]:
    """The gateway's own error shape (auth, routing, throttling, outages): code and message only."""
    return {"error": {"code": code, "message": message}}


def model_error(
    message: str, code: str | None, param: str | None = None, kind: str = "invalid_request_error"
) -> dict[str, Any]:
    """The model backend's error shape, passed through by Azure unchanged."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def rate_limit_message(api_version: str, retry_after: int) -> str:
    """The 429 text, which names the API version and the wait in whole seconds."""
    unit = "second" if retry_after == 1 else "seconds"
    return (
        f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {api_version} have "
        f"exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after {retry_after} {unit}. "
        "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )


def prompt_filtered_error() -> dict[str, Any]:
    """The 400 the service returns when the prompt itself trips the content filter."""
    verdict = prompt_filter_results(FLAGGED_CATEGORY)[0]["content_filter_results"]
    error = {
        "message": CONTENT_MANAGEMENT,
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": verdict},
    }
    return {"error": error}


def scripted_error(scenario: Scenario, api_version: str, retry_after: int) -> dict[str, Any]:
    """The error body for a scenario whose ``status`` is not 200.

    A 400 is a prompt content-filter hit when the scenario says
    ``content_filter`` (or ``error_code: "content_filter"``), else the most
    common real 400, an over-long context. ``error_code`` and
    ``error_message`` override whatever the status would say.
    """
    status = scenario.status
    if status == 400 and (scenario.content_filter or scenario.error_code == "content_filter"):
        body = prompt_filtered_error()
    elif status == 400:
        body = model_error(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in "
            "131072 tokens. Please reduce the length of the messages.",
            "context_length_exceeded",
            param="messages",
        )
    elif status == 429:
        body = azure_error("429", rate_limit_message(api_version, retry_after))
    else:
        body = azure_error(*_STATUS_ERRORS.get(status, (str(status), f"The service answered HTTP {status}.")))
    if scenario.error_code:
        body["error"]["code"] = scenario.error_code
    if scenario.error_message:
        body["error"]["message"] = scenario.error_message
    return body


_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    401: ("401", ACCESS_DENIED),
    403: (
        "PermissionDenied",
        "The principal lacks the required data action "
        "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
        "`POST /openai/deployments/{deployment-id}/chat/completions` operation.",
    ),
    404: (
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        "5 minutes, please wait a moment and try again.",
    ),
    408: ("Timeout", "The operation was timeout."),
    500: ("InternalServerError", "Backend returned unexpected response. Please contact Microsoft for help."),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."),
}
