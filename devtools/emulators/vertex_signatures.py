"""Thought signatures on the Vertex emulator, as Gemini 3 issues and checks them.

A thinking Gemini model puts an opaque ``thoughtSignature`` on the first
function call of a step (the native API) or on that tool call's
``extra_content.google.thought_signature`` (the OpenAI-compatible endpoint),
and, with no call, on its last text part. Gemini 3 refuses a follow-up whose
function call comes back without the signature it was given: 400
``INVALID_ARGUMENT`` (wording from public reports). A signature it never
issued is "corrupted".

Gemini's native calls carry no id, so the emulator knows a call by its name
and arguments; a signature is derived from them and the reasoning, and each
one issued beside a call is remembered in the scenario book (cleared on reset).
Approximation: every turn of the history is checked, not just the current one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from .scenario import Scenario, ToolCallScript

MISSING = (
    "Unable to submit request because function call `{name}` in the {position}. content block is missing "
    "a `thought_signature`. Learn more: https://docs.cloud.google.com/vertex-ai/generative-ai/docs/thought-signatures"
)
CORRUPTED = "Corrupted thought signature."


def _canonical(arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def call_key(name: Any, arguments: Any) -> str:
    """How the emulator knows a function call again: its name and arguments."""
    return f"gemini-call:{name}:{_canonical(arguments)}"


def signature(reasoning: str, what: str) -> str:
    """An opaque base64 signature over the reasoning and what it is attached to."""
    return base64.b64encode(hashlib.sha256(f"{reasoning}\n{what}".encode()).digest() * 3).decode("ascii")


def call_signature(scenario: Scenario, name: str, arguments: Any) -> str | None:
    """The signature on the first function call of a thinking turn; None for others and non-thinking turns."""
    if not scenario.reasoning or not scenario.tool_calls or scenario.tool_calls[0].name != name:
        return None
    return signature(scenario.reasoning, call_key(name, arguments))


def text_signature(scenario: Scenario) -> str | None:
    """The signature on a thinking turn's last text part, when it called no function."""
    return signature(scenario.reasoning, "text") if scenario.reasoning and not scenario.tool_calls else None


def remember(issued: MutableMapping[str, Any], scenario: Scenario, arguments: Any) -> None:
    """Note the signature given to the turn's first call, ``arguments`` as Gemini sent them."""
    if scenario.reasoning and scenario.tool_calls:
        first: ToolCallScript = scenario.tool_calls[0]
        issued[call_key(first.name, arguments)] = call_signature(scenario, first.name, arguments)


def native_problem(body: Any, issued: Mapping[str, Any]) -> str | None:
    """A native request's function calls checked against the signatures issued for them."""
    contents = body.get("contents") if isinstance(body, dict) else None
    for position, content in enumerate(contents if isinstance(contents, list) else [], start=1):
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else []:
            call = part.get("functionCall") if isinstance(part, dict) else None
            if isinstance(call, dict):
                problem = _check(
                    issued, call.get("name"), call.get("args") or {}, part.get("thoughtSignature"), position
                )
                if problem:
                    return problem
    return None


def openai_problem(body: Any, issued: Mapping[str, Any]) -> str | None:
    """An OpenAI-compatible request's tool calls checked against the signatures issued for them."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for position, message in enumerate(messages if isinstance(messages, list) else [], start=1):
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                continue
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except (TypeError, ValueError):
                continue
            google = ((call.get("extra_content") or {}).get("google") or {}) if isinstance(call, dict) else {}
            problem = _check(issued, function.get("name"), arguments, google.get("thought_signature"), position)
            if problem:
                return problem
    return None


def _check(issued: Mapping[str, Any], name: Any, arguments: Any, given: Any, position: int) -> str | None:
    wanted = issued.get(call_key(name, arguments))
    if given is not None and given not in issued.values():
        return CORRUPTED
    if wanted is not None and given != wanted:
        return MISSING.format(name=name, position=position)
    return None


def signed_native_parts(parts: list[dict[str, Any]], scenario: Scenario) -> list[dict[str, Any]]:
    """``parts`` with the thought signatures a thinking Gemini model puts on them."""
    signed = []
    for part in parts:
        call = part.get("functionCall")
        given = call_signature(scenario, call["name"], call.get("args") or {}) if call else None
        signed.append({**part, "thoughtSignature": given} if given else part)
    text = text_signature(scenario)
    answers = [n for n, part in enumerate(signed) if "text" in part and not part.get("thought")]
    if text and answers:
        signed[answers[-1]] = {**signed[answers[-1]], "thoughtSignature": text}
    return signed


def signed_openai_call(call: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A compatible-endpoint tool call with its thought signature, when the turn thought."""
    function = call["function"]
    given = call_signature(scenario, function["name"], json.loads(function["arguments"]))
    return {**call, "extra_content": {"google": {"thought_signature": given}}} if given else call
