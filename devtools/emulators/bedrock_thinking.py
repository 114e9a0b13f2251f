"""Extended thinking on the Bedrock emulator: signed blocks out, checked when they come back.

Claude on Bedrock signs each reasoning block. In a tool-use conversation the
final assistant turn must start with the thinking blocks the model wrote
before its tool calls, byte for byte, signature included; otherwise Bedrock
answers ``ValidationException`` with Anthropic's message, which this module
reproduces (wording from public reports). A signature the emulator never
issued is refused as invalid, as a tampered or foreign one is.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from .bedrock_events import reasoning_signature
from .scenario import Scenario

PREFIX = "The model returned the following errors: "
MISSING_THINKING = (
    "messages.{message}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. "
    "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
    "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
    "thinking blocks from previous turns. To avoid this requirement, disable `thinking`."
)
INVALID_SIGNATURE = "messages.{message}.content.{block}: Invalid `signature` in `thinking` block"
FOUND = {"text": "text", "toolUse": "tool_use", "image": "image", "toolResult": "tool_result"}


def remember(issued: MutableMapping[str, Any], scenario: Scenario, ids: Sequence[str]) -> None:
    """Note every signature issued, and the thinking before each tool call, to check a follow-up against."""
    if not scenario.reasoning:
        return
    expected = {"signature": reasoning_signature(scenario.reasoning), "redacted": scenario.redacted_reasoning}
    issued[f"signature:{expected['signature']}"] = expected
    for call_id in ids:
        issued[call_id] = expected


def thinking_problem(body: Any, issued: Mapping[str, Any]) -> str | None:
    """Why Bedrock would refuse the replayed thinking in this Converse body, or None."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return None
    signatures = {entry["signature"] for entry in issued.values()}
    last_assistant = max((n for n, m in enumerate(messages) if _role(m) == "assistant"), default=None)
    for n, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        blocks = [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
        for position, block in enumerate(blocks):
            text = (block.get("reasoningContent") or {}).get("reasoningText")
            if isinstance(text, dict) and not _valid(text, signatures):
                return PREFIX + INVALID_SIGNATURE.format(message=n, block=position)
        if n == last_assistant and (problem := _final_turn_problem(blocks, n, issued)):
            return problem
    return None


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _valid(text: dict[str, Any], signatures: set[str]) -> bool:
    signature = text.get("signature")
    return signature in signatures and signature == reasoning_signature(str(text.get("text", "")))


def _final_turn_problem(blocks: list[dict[str, Any]], n: int, issued: Mapping[str, Any]) -> str | None:
    """The final assistant turn must open with the thinking issued before its tool calls."""
    calls = [block["toolUse"].get("toolUseId") for block in blocks if isinstance(block.get("toolUse"), dict)]
    wanted = [issued[call] for call in calls if call in issued]
    if not wanted:
        return None
    thinking = [block["reasoningContent"] for block in blocks if isinstance(block.get("reasoningContent"), dict)]
    leading = blocks[0] if blocks else {}
    signed = {str((item.get("reasoningText") or {}).get("signature")) for item in thinking}
    redacted = {str(item.get("redactedContent")) for item in thinking if "redactedContent" in item}
    complete = all(
        entry["signature"] in signed and (not entry["redacted"] or entry["redacted"] in redacted) for entry in wanted
    )
    if "reasoningContent" not in leading or not complete:
        found = next(iter(leading), "text")
        return PREFIX + MISSING_THINKING.format(message=n, found=FOUND.get(found, found))
    return None
