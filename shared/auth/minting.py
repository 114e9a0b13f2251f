"""What an authenticated caller may put in a browser token it asks the relay to mint.

A token never grants more than its minter holds: aliases the minter may use,
a ``max_tokens`` ceiling no higher than the minter's own, the same quota
subject (or one beneath it, so a server can give each of its users a budget
of their own). Browser tokens cannot mint further tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..errors import Forbidden, InvalidRequest
from .browser_tokens import BrowserTokens, TokenClaims
from .identity import Identity
from .settings import ANY_MODEL


class MintRequest(BaseModel):
    """The body of ``POST /api/auth/browser-token``; every field is optional."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    models: list[str] | None = Field(default=None, min_length=1, description="Default: all the minter's aliases.")
    max_tokens: int | None = Field(default=None, ge=1, description="Default: the minter's ceiling.")
    ttl_minutes: int | None = Field(default=None, ge=1, description="Default: the configured maximum.")
    subject: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$", description="A user beneath the minter."
    )


def grant(
    minter: Identity, wanted: MintRequest, tokens: BrowserTokens, *, aliases: Sequence[str], ceiling: int
) -> TokenClaims:
    """The claims ``minter`` may have for ``wanted``; 403 or 400 naming the field otherwise."""
    if not minter.can_mint:
        raise Forbidden("a browser token cannot mint browser tokens")
    models = _models(minter, wanted, aliases)
    max_tokens = wanted.max_tokens or ceiling
    if max_tokens > ceiling:
        raise InvalidRequest(f"max_tokens: must be at most {ceiling}", param="max_tokens")
    max_minutes = int(tokens.max_ttl_seconds // 60)
    minutes = wanted.ttl_minutes or max_minutes
    if minutes > max_minutes:
        raise InvalidRequest(f"ttl_minutes: must be at most {max_minutes}", param="ttl_minutes")
    subject = f"{minter.subject}/{wanted.subject}" if wanted.subject else minter.subject
    return tokens.claims(subject, models, max_tokens, minutes * 60)


def _models(minter: Identity, wanted: MintRequest, aliases: Sequence[str]) -> list[str]:
    if wanted.models is None:
        return [ANY_MODEL] if minter.models is None else sorted(minter.models)
    for index, alias in enumerate(wanted.models):
        param = f"models[{index}]"
        if alias == ANY_MODEL and minter.models is not None:
            raise Forbidden(f"{param}: this caller may not grant every alias", param=param)
        if alias != ANY_MODEL and alias not in aliases:
            raise InvalidRequest(f"{param}: no model alias is named {alias!r}", param=param)
        if alias != ANY_MODEL and not minter.may_use(alias):
            raise Forbidden(f"{param}: this caller may not use {alias!r}", param=param)
    return list(wanted.models)
