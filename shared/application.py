"""The application: configuration, access, CORS, router and relay, built once per process.

``function_app.py`` builds one :class:`Application` at import time, which is
when the Functions worker indexes the app, so a bad configuration stops the
app from loading with a message naming the field at fault. The HTTP entry
points (:mod:`.http_api`) take each part from here; the :class:`Relay` is only
the failover engine and does not carry the others.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .access import Access
from .config import RelayConfig, load_config
from .cors import Cors
from .providers import PROVIDERS
from .relay import Relay
from .resumable.service import ResumableStreams
from .routing import Router
from .telemetry.setup import telemetry_from_environment
from .telemetry.telemetry import Telemetry


@dataclass(frozen=True)
class Application:
    """Everything a request needs, built once per process."""

    config: RelayConfig
    access: Access
    cors: Cors
    router: Router
    relay: Relay
    # When this configuration loaded (unix seconds): the ``created`` of every model object.
    loaded_at: int
    telemetry: Telemetry
    # Streams opened with ``x-relay-resumable: 1`` and their replay log (README, Resumable streams).
    streams: ResumableStreams

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, telemetry: Telemetry | None = None
    ) -> Application:
        """Validate ``RELAY_CONFIG``, build every backend's SDK client and the client-facing checks.

        ``telemetry`` is built from the environment unless given (tests hand in
        their own providers: OpenTelemetry's globals can be set once per process).
        """
        environ = os.environ if environ is None else environ
        config = load_config(environ)
        adapters = {backend.name: PROVIDERS[backend.provider].build(backend, environ) for backend in config.backends}
        access = Access.build(config, environ)
        relay = Relay(config, adapters)
        cors = Cors(config.cors)
        telemetry = telemetry_from_environment(environ) if telemetry is None else telemetry
        telemetry.watch(relay.router)
        return cls(
            config=config,
            access=access,
            cors=cors,
            router=relay.router,
            relay=relay,
            loaded_at=int(time.time()),
            telemetry=telemetry,
            streams=ResumableStreams.build(config.resumable, config.stream, environ),
        )

    def with_telemetry(self, telemetry: Telemetry) -> Application:
        """This application reporting to ``telemetry`` instead, its router's gauges included."""
        telemetry.watch(self.router)
        return dataclasses.replace(self, telemetry=telemetry)

    def health(self) -> dict[str, object]:
        """Liveness and per-backend state; names and providers only, never secrets."""
        return self.relay.health()

    async def aclose(self) -> None:
        """Close every SDK client and the quota store."""
        await self.relay.aclose()
        await self.access.aclose()
        await self.streams.aclose()
