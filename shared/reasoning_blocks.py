"""Signed reasoning as the OpenAI dialects write it, so a client can hand it back.

The canonical stream carries signatures as :class:`~shared.events.ReasoningDelta`
events that close a block of reasoning text. Clients of the OpenAI dialects
get them in the shape gateways use and LangChain and the AI SDK replay:

* Chat Completions: ``reasoning_content`` for the text, plus ``thinking_blocks``
  on the message (and on the delta that closes each block)::

      {"type": "thinking", "thinking": "...", "signature": "...", "provider": "bedrock"}
      {"type": "redacted_thinking", "data": "...", "provider": "bedrock"}

  ``provider`` says which family issued the block, so a replay reaching another
  provider drops it. On streamed deltas each block also has ``index`` (its place
  among the message's blocks): the OpenAI SDKs merge list entries by index.
* Responses: the ``reasoning`` item's ``encrypted_content``, an opaque string
  (:func:`encrypted_content`) holding the provider and the signature or the
  redacted data; the readable text stays in the item's ``content``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from .events import ReasoningDelta

# Versioned, so a later encoding can be told apart from this one.
ENCRYPTED_PREFIX = "relay1."


def thinking_block(text: str, event: ReasoningDelta) -> dict[str, Any]:
    """The chat dialect's block for the reasoning ``text`` that ``event`` signs or redacts."""
    if event.redacted is not None:
        return {"type": "redacted_thinking", "data": event.redacted, "provider": event.provider}
    return {"type": "thinking", "thinking": text, "signature": event.signature, "provider": event.provider}


def closes_block(event: ReasoningDelta) -> bool:
    """Whether ``event`` ends a signed or redacted block (else it is plain reasoning text)."""
    return event.signature is not None or event.redacted is not None


@dataclass
class BlockFolder:
    """Folds one response's reasoning events into completed blocks, in order."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    _text: list[str] = field(default_factory=list)

    def add(self, event: ReasoningDelta) -> dict[str, Any] | None:
        """The block ``event`` completes, or None while a block is still being written."""
        if event.content:
            self._text.append(event.content)
        if not closes_block(event):
            return None
        block = thinking_block("".join(self._text) if event.redacted is None else "", event)
        self._text.clear()
        self.blocks.append(block)
        return block


def encrypted_content(event: ReasoningDelta) -> str:
    """The Responses ``encrypted_content`` for a signing or redacting event."""
    document: dict[str, str] = {"provider": event.provider or ""}
    if event.redacted is not None:
        document["redacted"] = event.redacted
    else:
        document["signature"] = event.signature or ""
    raw = json.dumps(document, separators=(",", ":")).encode()
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def decode_encrypted_content(value: str) -> dict[str, str]:
    """``provider`` plus ``signature`` or ``redacted`` from :func:`encrypted_content`; ValueError if not ours."""
    if not value.startswith(ENCRYPTED_PREFIX):
        raise ValueError("is not reasoning this relay issued")
    try:
        document = json.loads(base64.urlsafe_b64decode(value[len(ENCRYPTED_PREFIX) :].encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise ValueError("is not reasoning this relay issued") from None
    valid = isinstance(document, dict) and all(isinstance(v, str) for v in document.values())
    if not valid or not document.get("provider") or not (document.get("signature") or document.get("redacted")):
        raise ValueError("is not reasoning this relay issued")
    return {key: str(value) for key, value in document.items()}
