"""The gate: one call that authenticates a request with whichever mode it uses.

Precedence: a platform principal (when App Service Authentication is trusted),
then the credential in ``Authorization``/``api-key`` — a browser token, an
Entra ID token or a relay key, told apart by shape — then anonymous access
if, and only if, development mode allows it. A credential that is present
but wrong is always refused, even in development mode.

Credentials are attacker input parsed by several libraries, so the gate is
the one place that guarantees their failures stay 4xx: a verifier raising
anything but a ``RelayError`` is a bug, logged once by type name (never the
credential, never a traceback) and answered as a 401.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ..errors import RelayError, Unauthorized
from .browser_tokens import TOKEN_PREFIX, BrowserTokens
from .credentials import looks_like_jwt, presented_credential
from .easy_auth import principal_identity
from .entra import EntraVerifier
from .identity import ANONYMOUS, Identity
from .jwks import JwksCache
from .relay_keys import KeyRing
from .settings import AuthSettings

logger = logging.getLogger(__name__)


class Gate:
    """Authenticates requests for one configuration."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        entra: EntraVerifier | None = None,
        tokens: BrowserTokens | None = None,
    ) -> None:
        self.settings = settings
        self.keys = KeyRing(settings.relay_keys)
        self.entra = entra
        self.tokens = tokens

    @classmethod
    def build(cls, settings: AuthSettings, environ: Mapping[str, str]) -> Gate:
        """A gate with the verifiers the settings ask for; secrets come from app settings."""
        entra = None
        if settings.entra is not None:
            keys = JwksCache(
                settings.entra.keys_url(),
                max_age_seconds=settings.entra.jwks_cache_seconds,
                refetch_seconds=settings.entra.jwks_refetch_seconds,
            )
            entra = EntraVerifier(settings.entra, keys)
        tokens = None
        if settings.browser_tokens is not None:
            section = settings.browser_tokens
            previous = environ.get(section.previous_secret_setting) if section.previous_secret_setting else None
            tokens = BrowserTokens(
                environ[section.secret_setting],
                previous,
                max_ttl_seconds=section.max_ttl_minutes * 60,
                profile=section.profile,
            )
        return cls(settings, entra=entra, tokens=tokens)

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """The caller's identity, or a ``RelayError`` (401, 403, 503) saying why not; never anything else."""
        try:
            return await self._identify(headers)
        except RelayError:
            raise
        except Exception as exc:
            logger.warning("a credential verifier failed unexpectedly (%s); refused with 401", type(exc).__name__)
            raise Unauthorized("the credential is not valid") from None

    async def _identify(self, headers: Mapping[str, str]) -> Identity:
        if self.settings.easy_auth is not None:
            principal = principal_identity(headers, self.settings.easy_auth)
            if principal is not None:
                return principal
        credential = presented_credential(headers)
        if credential is None:
            if self.settings.allow_anonymous:
                return ANONYMOUS
            raise Unauthorized("no credentials: send 'Authorization: Bearer <key>' or an 'api-key' header")
        if self.tokens is not None and credential.startswith(TOKEN_PREFIX):
            return self.tokens.verify(credential)
        if self.entra is not None and looks_like_jwt(credential):
            return await self.entra.verify(credential)
        identity = self.keys.identify(credential)
        if identity is None:
            raise Unauthorized("the credential is not valid")
        return identity

    async def aclose(self) -> None:
        """Close the key fetcher's connections."""
        if self.entra is not None:
            await self.entra.keys.aclose()
