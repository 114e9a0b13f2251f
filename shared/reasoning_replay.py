"""The reasoning a client hands back on an assistant message, checked strictly.

What :mod:`shared.reasoning_blocks` writes comes back here: ``reasoning_content``
and ``thinking_blocks`` on an assistant message, and Google's
``extra_content.google.thought_signature`` on its tool calls. Each provider
takes back only what its own family issued (:func:`blocks_for`): a Bedrock
signature sent to Gemini, or the reverse, would be refused as invalid, so a
failover or another alias drops foreign blocks instead.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, WithJsonSchema

from .events import BEDROCK


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ThinkingBlock(_Strict):
    """Signed reasoning text; an unsigned block cannot be replayed and is dropped."""

    type: Literal["thinking"]
    thinking: str
    signature: str | None = None
    provider: str | None = None
    # Present on blocks a client rebuilt from streamed deltas (the SDKs merge list entries by index).
    index: int | None = None


class RedactedThinkingBlock(_Strict):
    """Reasoning the provider encrypted; ``data`` is opaque."""

    type: Literal["redacted_thinking"]
    data: str = Field(min_length=1)
    provider: str | None = None
    index: int | None = None


def _block_kind(value: object) -> str | None:
    """The union member for a block, by ``type``; the tags read as union tags, so errors name only the field."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"type-{kind}" if kind in ("thinking", "redacted_thinking") else None


# Published as a plain ``anyOf`` (what every schema reader understands), checked by ``type`` first.
AnyThinkingBlock = Annotated[
    Annotated[ThinkingBlock, Tag("type-thinking")] | Annotated[RedactedThinkingBlock, Tag("type-redacted_thinking")],
    Discriminator(
        _block_kind,
        custom_error_type="block_type",
        custom_error_message="type must be 'thinking' or 'redacted_thinking'",
    ),
    WithJsonSchema({"anyOf": [ThinkingBlock.model_json_schema(), RedactedThinkingBlock.model_json_schema()]}),
]


class GoogleExtra(_Strict):
    thought_signature: str = Field(min_length=1)


class ExtraContent(_Strict):
    """A tool call's ``extra_content``, as Gemini's OpenAI-compatible endpoint writes it."""

    google: GoogleExtra | None = None


Block = ThinkingBlock | RedactedThinkingBlock


def blocks_for(blocks: list[Block] | None, provider: str) -> list[Block]:
    """The signed blocks ``provider`` issued, in order; untagged ones are taken as Bedrock's (Anthropic's shape)."""
    kept: list[Block] = []
    for block in blocks or []:
        signed = isinstance(block, RedactedThinkingBlock) or bool(block.signature)
        if (block.provider or BEDROCK) == provider and signed:
            kept.append(block)
    return kept


def google_signature(extra: ExtraContent | None) -> str | None:
    """The Gemini thought signature a tool call carries, if any."""
    return extra.google.thought_signature if extra is not None and extra.google is not None else None
