"""The ``policy`` section: what clients may ask for, per profile and per alias.

A profile's rules replace the ``default`` profile's; an alias's rules then
tighten them further. Unset fields fall back to the built-in defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    """One set of request rules; every field is optional."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    allowed_parameters: list[str] | None = Field(
        default=None,
        description="Parameters clients may set besides model, messages, stream and stream_options; "
        "default: every parameter the relay knows.",
    )
    max_tokens: int | None = Field(
        default=None, ge=1, description="Ceiling on max_tokens/max_completion_tokens; applied when unset (4096)."
    )
    max_messages: int | None = Field(default=None, ge=1, description="Most messages in one request (256).")
    max_body_bytes: int | None = Field(default=None, ge=1, description="Largest request body, in bytes.")
    system_prompt: str | None = Field(
        default=None, min_length=1, description="A system message the relay puts first in every request."
    )
    client_system_messages: bool | None = Field(
        default=None, description="Whether clients may send system or developer messages (true)."
    )


class PolicySettings(BaseModel):
    """Named profiles (which credentials refer to) and per-alias rules."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    profiles: dict[str, Rules] = Field(default={}, description="Rules by profile name; 'default' for everyone else.")
    aliases: dict[str, Rules] = Field(default={}, description="Rules that apply to every request for an alias.")
