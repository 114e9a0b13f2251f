"""The ``auth`` section: which client credentials the relay accepts.

Modes combine: a deployment may accept relay keys from servers, Entra ID
tokens from enterprise apps and short-lived browser tokens from web pages at
once. With no mode configured the relay refuses to start; anonymous access
exists only for local development.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ANY_MODEL = "*"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SETTING_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Grant(_Section):
    """What every identity of one credential source may do."""

    models: list[str] = Field(
        default=[ANY_MODEL], min_length=1, description='Model aliases it may use; ["*"] means every alias.'
    )
    profile: str = Field(default="default", pattern=NAME_PATTERN, description="Policy and quota profile.")


class RelayKey(Grant):
    """One relay API key, stored only as its SHA-256 digest."""

    name: str = Field(pattern=NAME_PATTERN, description="Shown in logs and used as the quota identity.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the key; see the mint-key CLI.")
    models: list[str] = Field(min_length=1, description='Model aliases the key may use; ["*"] means every alias.')


class EntraSettings(Grant):
    """Microsoft Entra ID bearer tokens (JWTs) issued for the relay's app registration."""

    tenant_id: str = Field(min_length=1, description="The directory (tenant) id whose tokens are accepted.")
    audiences: list[str] = Field(min_length=1, description="Accepted aud values: the app id URI and/or client id.")
    issuers: list[str] | None = Field(
        default=None, min_length=1, description="Accepted iss values; default: the tenant's v2.0 and v1 issuers."
    )
    jwks_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Signing keys; default: the tenant's discovery keys."
    )
    required_roles: list[str] = Field(default=[], description="Any one of these app roles admits the token.")
    required_scopes: list[str] = Field(default=[], description="Any one of these delegated scopes admits it.")
    clock_skew_seconds: float = Field(default=60, ge=0, le=300, description="Leeway for exp and nbf.")
    jwks_cache_seconds: float = Field(default=3600, gt=0, description="How long fetched keys are trusted.")
    jwks_refetch_seconds: float = Field(
        default=60, ge=0, description="Least time between re-fetches caused by an unknown kid."
    )

    def issuer_values(self) -> list[str]:
        """The configured issuers, or the tenant's two standard ones."""
        if self.issuers:
            return list(self.issuers)
        return [
            f"https://login.microsoftonline.com/{self.tenant_id}/v2.0",
            f"https://sts.windows.net/{self.tenant_id}/",
        ]

    def keys_url(self) -> str:
        """Where the tenant publishes its signing keys."""
        return self.jwks_url or f"https://login.microsoftonline.com/{self.tenant_id}/discovery/v2.0/keys"


class EasyAuthSettings(Grant):
    """App Service Authentication: trust ``x-ms-client-principal`` because the platform sets it."""

    platform_sets_principal: Literal[True] = Field(
        description="Must be true: say so only when App Service Authentication is on, as it alone sets the header."
    )
    required_roles: list[str] = Field(default=[], description="Any one of these roles admits the principal.")


class BrowserTokenSettings(_Section):
    """Short-lived HMAC-signed tokens for web pages that must not hold a long-lived key."""

    secret_setting: str = Field(pattern=SETTING_PATTERN, description="App setting holding the signing secret.")
    previous_secret_setting: str | None = Field(
        default=None, pattern=SETTING_PATTERN, description="App setting holding the secret being rotated out."
    )
    max_ttl_minutes: int = Field(default=15, ge=1, le=60, description="Longest lifetime a token may have.")
    profile: str = Field(default="default", pattern=NAME_PATTERN, description="Profile of browser-token clients.")


class AuthSettings(_Section):
    """Every accepted credential source; at least one must be configured."""

    allow_anonymous: bool = Field(
        default=False, description="Local development only: admit requests without credentials."
    )
    relay_keys: list[RelayKey] = Field(default=[], description="Relay API keys, as hashes.")
    entra: EntraSettings | None = None
    easy_auth: EasyAuthSettings | None = None
    browser_tokens: BrowserTokenSettings | None = None

    def modes(self) -> list[str]:
        """The names of the configured modes, for start-up logs and health."""
        present = {
            "relay_keys": bool(self.relay_keys),
            "entra": self.entra is not None,
            "easy_auth": self.easy_auth is not None,
            "browser_tokens": self.browser_tokens is not None,
            "anonymous": self.allow_anonymous,
        }
        return [name for name, on in present.items() if on]
