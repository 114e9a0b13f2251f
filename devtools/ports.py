"""The default local ports, named once: the relay's and each provider emulator's.

``make dev``, ``make serve``, ``make emulators`` and each emulator's own CLI
read their defaults here. ``devtools/config/relay.dev.json`` is JSON that
``func start`` reads as it is, so it spells the emulator URLs out; a test
keeps it in step with :data:`EMULATOR_PORTS`. Tests never use these ports:
they serve everything on free ones.
"""

from __future__ import annotations

import os

# ``func start``'s own default, so a client written for either works with both.
RELAY_PORT = 7071

# Emulator module name (``devtools.emulators.<name>``, also the provider a backend names) -> default port.
EMULATOR_PORTS: dict[str, int] = {
    "azure_openai": 8101,
    "bedrock": 8102,
    "vertex": 8103,
}


def relay_port() -> int:
    """The relay's port: ``PORT`` from the environment, else :data:`RELAY_PORT`."""
    return int(os.environ.get("PORT", str(RELAY_PORT)))
