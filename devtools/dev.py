"""``make dev``: every provider emulator plus the relay, so real streams work with no cloud account.

The emulators listen on fixed loopback ports that the demo configuration
(``devtools/config/relay.dev.json``) points at; the relay is served by the
local host exactly as ``make serve`` would serve it.

Vertex authenticates for real: the Vertex emulator hands out a service-account
key it trusts, which goes into the app setting the demo backend's
``credentials_setting`` names and into a key file (for ``func start``), so
the relay signs JWTs and fetches, caches and refreshes tokens as in Azure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import urllib.request
from pathlib import Path

from .local_host import APP_ROOT, create_host, describe_routes
from .threaded_server import ThreadedServer

DEV_CONFIG = APP_ROOT / "devtools" / "config" / "relay.dev.json"

# (emulator module, port); the demo config points each backend at one of these.
EMULATORS = (
    ("azure_openai", 8101),
    ("bedrock", 8102),
    ("vertex", 8103),
)

VERTEX_CREDENTIALS_SETTING = "DEV_VERTEX_CREDENTIALS"

# Placeholder credentials the emulators accept; never real secrets.
DEV_ENVIRONMENT = {
    "RELAY_CONFIG": str(DEV_CONFIG),
    "DEV_AZURE_OPENAI_KEY": "dev-only-azure-key",
    "AWS_ACCESS_KEY_ID": "AKIDEVONLYEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "dev-only-aws-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_emulators() -> list[ThreadedServer]:
    """Start each emulator that is available on its fixed port."""
    servers = []
    for name, port in EMULATORS:
        try:
            module = importlib.import_module(f"devtools.emulators.{name}")
        except ImportError:
            continue
        server = ThreadedServer(module.create_app(), port=port).start()
        print(f"  emulator {name:<13} {server.url}", flush=True)
        servers.append(server)
    return servers


def vertex_service_account(emulator_url: str) -> dict[str, str]:
    """A key file the running Vertex emulator trusts, from its admin API."""
    request = urllib.request.Request(f"{emulator_url}/_emulator/service-account", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        info: dict[str, str] = json.load(response)
    return info


def provide_vertex_credentials(servers: list[ThreadedServer]) -> Path | None:
    """Put a trusted key in the dev app setting and in a key file; returns the file's directory."""
    port = dict(EMULATORS)["vertex"]
    if not any(server.port == port for server in servers):
        return None
    info = vertex_service_account(f"http://127.0.0.1:{port}")
    os.environ.setdefault(VERTEX_CREDENTIALS_SETTING, json.dumps(info))
    key_file = Path(tempfile.mkdtemp(prefix="relay-dev-")) / "vertex-service-account.json"
    key_file.write_text(json.dumps(info, indent=2), encoding="utf-8")
    print(f"  vertex key file        {key_file} (also in app setting {VERTEX_CREDENTIALS_SETTING})", flush=True)
    return key_file.parent


def try_lines(port: int) -> list[str]:
    """What to try once the relay listens: the demo chat page, then a curl."""
    return [
        f"\nDemo chat page: http://localhost:{port}/api/ui",
        "\nTry:",
        f"  curl -N http://localhost:{port}/api/v1/chat/completions "
        "-H 'Content-Type: application/json' "
        "-d '{\"model\":\"azure\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the relay against local provider emulators.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "7071")))
    parser.add_argument("--emulators-only", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name, value in DEV_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    print("Starting provider emulators:", flush=True)
    servers = start_emulators()
    key_directory = provide_vertex_credentials(servers)
    if not args.emulators_only:
        app = create_host(Path(APP_ROOT))
        relay = ThreadedServer(app, port=args.port, host="127.0.0.1").start()
        servers.append(relay)
        print(f"\nRelay listening on http://localhost:{args.port}", flush=True)
        for line in describe_routes(app):
            print(f"  {line}", flush=True)
        print("\n".join(try_lines(args.port)), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.stop()
    if key_directory is not None:
        shutil.rmtree(key_directory, ignore_errors=True)


if __name__ == "__main__":
    main()
