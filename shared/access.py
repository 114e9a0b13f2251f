"""Access control for one relay: who may call, what they may ask, and how much.

Built once per process from the configuration and the app settings. Every
chat route uses the same three steps, whatever its dialect::

    identity = await access.authenticate(request.headers)      # 401 / 403
    admission = await access.admit(identity, chat, body_size)  # 400 / 403 / 413 / 429
    opened = await admission.attempt(relay.open(admission.chat))
    events = admission.meter(guarded_events(...))              # debits usage
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from .auth.gate import Gate
from .auth.identity import Identity
from .auth.minting import MintRequest, grant
from .auth.settings import AuthSettings
from .chat_request import ChatRequest, validation_error_to_invalid_request
from .config import RelayConfig
from .errors import ConfigError, Forbidden, InvalidRequest, RelayError
from .limits import Limiter
from .limits.store import MemoryStore
from .policy import enforce, resolve
from .streaming.quota_lease import Admission

logger = logging.getLogger(__name__)

ANONYMOUS_BANNER = (
    "\n" + "!" * 78 + "\n"
    "!!  auth.allow_anonymous is ON: anyone who can reach this relay may use it.\n"
    "!!  This is for local development only; never deploy this configuration.\n" + "!" * 78
)
NO_AUTH = (
    "no client authentication is configured; set relay_keys, entra, easy_auth or browser_tokens "
    "(or allow_anonymous for local development only)"
)


class BrowserTokensDisabled(RelayError):
    status = 404
    code = "browser_tokens_disabled"
    error_type = "invalid_request_error"


class Access:
    """Authentication, request policy and quotas for one configuration."""

    def __init__(self, config: RelayConfig, gate: Gate, limiter: Limiter) -> None:
        self.config = config
        self.gate = gate
        self.limiter = limiter

    @classmethod
    def build(cls, config: RelayConfig, environ: Mapping[str, str]) -> Access:
        """Access as configured; refuses a configuration that accepts no credentials at all."""
        modes = config.auth.modes()
        if not modes:
            raise ConfigError([("auth", NO_AUTH)])
        if config.auth.allow_anonymous:
            logger.warning(ANONYMOUS_BANNER)
        logger.info("client authentication: %s; quota store: %s", ", ".join(modes), config.quotas.store)
        return cls(config, Gate.build(config.auth, environ), Limiter.build(config.quotas, environ))

    @classmethod
    def closed(cls, config: RelayConfig) -> Access:
        """Access that admits nobody, for a relay built without its app settings."""
        return cls(config, Gate(AuthSettings()), Limiter(config.quotas, MemoryStore()))

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """The caller, or ``Unauthorized``/``Forbidden``; the credential itself is never logged."""
        try:
            return await self.gate.authenticate(headers)
        except RelayError as exc:
            logger.info("refused a client (%s): %s", exc.code, exc.message)
            raise

    async def admit(self, identity: Identity, chat: ChatRequest, body_size: int) -> Admission:
        """Check the request against the caller's grants, policy and quota."""
        if not identity.may_use(chat.model):
            message = f"model: this client may not use {chat.model!r}"
            raise Forbidden(message, code="model_not_allowed", param="model")
        policy = resolve(self.config.policy, identity.profile, chat.model, identity.max_tokens)
        forwarded = enforce(chat, policy, body_size)
        most_tokens = body_size + policy.prompt_bytes() + (forwarded.output_token_limit or policy.max_tokens)
        ticket = await self.limiter.acquire(identity.subject, identity.profile, most_tokens)
        return Admission(identity, forwarded, ticket, self.limiter)

    def visible_models(self, identity: Identity, aliases: Sequence[str]) -> list[str]:
        """The aliases this caller may use."""
        return [alias for alias in aliases if identity.may_use(alias)]

    def mint_browser_token(self, identity: Identity, body: bytes, aliases: Sequence[str]) -> dict[str, Any]:
        """A browser token granting at most what ``identity`` holds."""
        tokens = self.gate.tokens
        if tokens is None:
            raise BrowserTokensDisabled("browser tokens are not enabled (auth.browser_tokens)")
        wanted = _mint_request(body)
        ceiling = resolve(self.config.policy, identity.profile, "", identity.max_tokens).max_tokens
        claims = grant(identity, wanted, tokens, aliases=aliases, ceiling=ceiling)
        logger.info("minted a browser token for %s lasting %ss", claims.subject, claims.expires_at - claims.issued_at)
        return {"token": tokens.mint(claims), **claims.document()}

    async def aclose(self) -> None:
        await self.gate.aclose()
        await self.limiter.aclose()


def _mint_request(body: bytes) -> MintRequest:
    if not body.strip():
        return MintRequest()
    try:
        return MintRequest.model_validate_json(body, strict=True)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise InvalidRequest("request body is not valid JSON") from None
        raise validation_error_to_invalid_request(exc) from None
