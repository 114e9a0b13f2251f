"""Field types of the chat request that need more than a type: OpenAI's limits on them, checked here.

They are checked by validators rather than by key constraints, so the
request's published JSON Schema stays plain (``additionalProperties`` only),
which every schema reader and the fuzz suite understand.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Bias = Annotated[int, Field(ge=-100, le=100)]


def _metadata_pairs(metadata: dict[str, str]) -> dict[str, str]:
    """Up to 16 pairs, keys of 1 to 64 characters, values up to 512, as OpenAI takes them."""
    if len(metadata) > 16:
        raise ValueError("holds more than 16 pairs")
    for key, value in metadata.items():
        if not 1 <= len(key) <= 64 or len(value) > 512:
            raise ValueError("keys are 1 to 64 characters and values up to 512")
    return metadata


def _token_ids(bias: dict[str, int]) -> dict[str, int]:
    """``logit_bias`` is keyed by token ids, written as decimal strings."""
    if not all(key.isascii() and key.isdigit() for key in bias):
        raise ValueError("keys must be token ids (decimal strings)")
    return bias


Metadata = Annotated[dict[str, str], AfterValidator(_metadata_pairs)]
LogitBias = Annotated[dict[str, Bias], AfterValidator(_token_ids)]


class FunctionName(BaseModel):
    """The legacy ``function_call: {"name": ...}``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(min_length=1)


class CacheControl(BaseModel):
    """A prompt-cache breakpoint, ``{"type": "ephemeral"}``, as frameworks send it to OpenAI-compatible gateways.

    It marks the end of a prefix worth caching: Bedrock gets a ``cachePoint``
    there; Azure OpenAI and Gemini cache on their own and never see it.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] | None = None
