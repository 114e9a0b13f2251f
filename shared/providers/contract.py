"""The contract between the relay and a provider: backend settings and adapters.

Opening a stream and reading it are separate steps on purpose. ``open`` sends
the request and waits for the upstream's response headers; it fails with a
typed :class:`~shared.errors.UpstreamError` (retryable or not, with the
upstream's Retry-After) before any byte has gone to the client, so the router
can try another backend. Reading yields canonical events; a failure there can
only end the client's stream with an error event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..events import StreamEvent

if TYPE_CHECKING:
    from ..chat_request import ChatRequest

INLINE_SECRET_FIELDS = frozenset(
    {"api_key", "key", "secret", "password", "token", "access_key", "secret_access_key", "credentials"}
)


class BackendSettings(BaseModel):
    """Fields every backend has; each provider subclasses it with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Unique backend name.")
    provider: str
    priority: int = Field(default=1, ge=0, description="Lower numbers are tried first.")
    weight: float = Field(default=1, gt=0, description="Relative share of traffic within a priority group.")
    connect_timeout_seconds: float = Field(default=10, gt=0, description="Upper bound on opening the upstream stream.")

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            inline = sorted(INLINE_SECRET_FIELDS & set(data))
            if inline:
                raise ValueError(
                    f"secrets are never inline ({', '.join(inline)}); "
                    "name the app setting that holds them instead, e.g. api_key_setting"
                )
        return data


@dataclass
class UpstreamStream:
    """An opened upstream response.

    ``events`` yields canonical events; closing it (or calling :meth:`aclose`)
    releases the upstream connection. ``headers`` keeps the response headers
    that matter for routing (rate-limit counters), never credentials.
    """

    events: AsyncIterator[StreamEvent]
    headers: Mapping[str, str] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Release the upstream connection; safe to call more than once."""
        close = getattr(self.events, "aclose", None)
        if close is not None:
            await close()


class ProviderAdapter(Protocol):
    """One backend's connection to its provider, built once and reused."""

    @property
    def settings(self) -> BackendSettings:
        """The backend this adapter serves."""
        ...

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Send the request; raise an ``UpstreamError`` if it is refused."""
        ...

    async def aclose(self) -> None:
        """Close the SDK clients at shutdown."""
        ...


@dataclass(frozen=True)
class ProviderSpec:
    """What the registry knows about one provider.

    ``check_environment`` reports missing app settings as ``(field, message)``
    pairs at start-up; ``build`` creates the adapter and its SDK clients once.
    """

    name: str
    settings_type: type[BackendSettings]
    build: Callable[[Any, Mapping[str, str]], ProviderAdapter]
    check_environment: Callable[[Any, Mapping[str, str]], list[tuple[str, str]]]
