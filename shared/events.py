"""The canonical stream: provider-neutral events between adapters and encoders.

Every provider adapter turns its SDK's stream into these events, and every
output dialect turns these events into bytes. Neither side knows the other, so
adding a provider or a dialect touches one module.

A well-formed stream is any number of deltas and usage events followed by
exactly one terminal event: :class:`Finish` or :class:`StreamError`. The relay
adds :class:`Heartbeat` events while the upstream is quiet; adapters never do.
"""

from __future__ import annotations

from dataclasses import dataclass

# The provider families that sign reasoning; a signature goes back only to the family that issued it.
BEDROCK = "bedrock"
GOOGLE = "google"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A fragment of the assistant's visible answer."""

    content: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A fragment of the model's reasoning ("thinking"), shown apart from the answer.

    Reasoning models sign their thoughts, and some providers refuse the next
    turn of a tool-use conversation unless the signed block comes back
    unchanged. So besides text an event may carry, opaque to the relay:

    * ``signature``: closes the reasoning block whose text came before it
      (Bedrock's ``reasoningContent.signature``, Gemini's ``thoughtSignature``
      on a text part), usually with empty ``content``;
    * ``redacted``: a block of encrypted reasoning (Bedrock's
      ``redactedContent``, base64) with no readable text.

    ``provider`` names the family that issued them (:data:`BEDROCK`,
    :data:`GOOGLE`): a signature is valid only there, so a replay routed to
    another provider (failover, aliases) drops it instead of sending it.
    """

    content: str
    signature: str | None = None
    redacted: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of one tool call.

    ``index`` identifies the call within the response. ``id`` and ``name`` are
    set on the call's first fragment; ``arguments`` carries the next piece of
    the JSON arguments string, possibly empty. ``signature`` is Gemini's
    ``thoughtSignature`` on the function call, opaque, which Gemini 3 wants
    back with the call on the next turn; only Google issues one.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting for the whole response, in OpenAI's meaning.

    ``cached_tokens`` (prompt tokens read from a provider's cache) and
    ``cache_write_tokens`` (prompt tokens written to it) are parts of
    ``prompt_tokens``; ``reasoning_tokens`` are part of ``completion_tokens``.
    They are breakdowns for the bill, never added to the total again.
    """

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Finish:
    """The model finished; ``reason`` uses OpenAI's vocabulary.

    One of ``stop``, ``length``, ``tool_calls`` or ``content_filter``.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class StreamError:
    """The stream failed after it started; always the last event.

    ``code`` is a short machine-readable string, ``retryable`` says whether the
    same request may succeed if sent again, and ``retry_after`` (seconds) is the
    upstream's hint when it gave one.
    """

    code: str
    message: str
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing to say yet, but the connection is alive; each dialect writes it as a comment or nothing."""


# What an adapter yields; the relay adds heartbeats, so a client stream is a StreamEvent.
UpstreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | Usage | Finish | StreamError
StreamEvent = UpstreamEvent | Heartbeat
TerminalEvent = Finish | StreamError
