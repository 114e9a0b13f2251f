"""The relay: configuration, one adapter per backend, and the router, wired once.

``function_app.py`` builds one :class:`Relay` at import time, which is when
the Functions worker indexes the app, so a bad configuration stops the app
from loading with a message naming the field at fault.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .access import Access
from .chat_request import ChatRequest
from .config import RelayConfig, load_config
from .errors import ModelNotFound, RelayError, UpstreamError, UpstreamUnavailable
from .providers import PROVIDERS
from .providers.base import ProviderAdapter, UpstreamStream
from .router import Router

logger = logging.getLogger(__name__)


@dataclass
class OpenedStream:
    """An upstream stream that answered, and how many backends were tried."""

    backend: str
    attempts: int
    stream: UpstreamStream


class Relay:
    """Everything a request needs, built once per process."""

    def __init__(
        self, config: RelayConfig, adapters: Mapping[str, ProviderAdapter], access: Access | None = None
    ) -> None:
        self.config = config
        self.adapters = dict(adapters)
        self.access = access if access is not None else Access.closed(config)
        self.router = Router(
            {alias: [config.backend(name) for name in names] for alias, names in config.models.items()}
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Relay:
        """Validate ``RELAY_CONFIG`` and build every backend's SDK client."""
        environ = os.environ if environ is None else environ
        config = load_config(environ)
        adapters = {
            backend.name: PROVIDERS[backend.provider].build(backend, environ) for backend in config.backends
        }
        return cls(config, adapters, Access.build(config, environ))

    async def open(self, request: ChatRequest) -> OpenedStream:
        """Open the stream on the first backend that accepts it.

        A retryable failure (429, 5xx, connection errors) moves on to the next
        candidate; nothing has reached the client yet, so failing over is
        invisible. A non-retryable one (the request itself is bad) stops.
        """
        candidates = self.router.candidates(request.model)
        if not candidates:
            raise ModelNotFound(
                f"model {request.model!r} does not exist; GET /api/v1/models lists the models", param="model"
            )
        last_error: RelayError | None = None
        for attempt, backend in enumerate(candidates, start=1):
            try:
                stream = await self.adapters[backend.name].open(request)
            except UpstreamError as exc:
                logger.warning("backend %s failed to open (%s, retryable=%s)", backend.name, exc.code, exc.retryable)
                last_error = exc
                if not exc.retryable:
                    raise
                continue
            return OpenedStream(backend=backend.name, attempts=attempt, stream=stream)
        assert last_error is not None
        if isinstance(last_error, UpstreamError) and last_error.status != 429:
            raise UpstreamUnavailable(
                f"no backend for model {request.model!r} could serve the request: {last_error.message}",
                code=last_error.code,
                status=503,
                retry_after=last_error.retry_after,
            )
        raise last_error

    def health(self) -> dict[str, object]:
        """Liveness and per-backend state; names and providers only, never secrets."""
        return {
            "status": "ok",
            "backends": [
                {"name": backend.name, "provider": backend.provider, "state": "healthy"}
                for backend in self.config.backends
            ],
        }

    async def aclose(self) -> None:
        """Close every SDK client."""
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.access.aclose()
