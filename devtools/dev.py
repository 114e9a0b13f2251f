"""``make dev``: every provider emulator plus the relay, so real streams work with no cloud account.

The emulators listen on loopback ports, 8101-8103 unless flags say otherwise;
the demo configuration (``devtools/config/relay.dev.json``) is pointed at the
ports actually used, so tests can run a whole dev setup on free ports while a
developer's own ``make dev`` holds the defaults. The relay is served by the
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

# Emulator module -> default port; a backend is pointed at the emulator named like its provider.
EMULATORS = {
    "azure_openai": 8101,
    "bedrock": 8102,
    "vertex": 8103,
}
# The field of each provider's backend settings that holds its endpoint.
ENDPOINT_FIELDS = {"azure_openai": "endpoint", "bedrock": "endpoint_url", "vertex": "endpoint_url"}

VERTEX_CREDENTIALS_SETTING = "DEV_VERTEX_CREDENTIALS"

# Placeholder credentials the emulators accept; never real secrets.
DEV_ENVIRONMENT = {
    "DEV_AZURE_OPENAI_KEY": "dev-only-azure-key",
    "AWS_ACCESS_KEY_ID": "AKIDEVONLYEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "dev-only-aws-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_emulators(ports: dict[str, int]) -> dict[str, ThreadedServer]:
    """Start each available emulator on its port, by emulator name."""
    servers = {}
    for name, port in ports.items():
        try:
            module = importlib.import_module(f"devtools.emulators.{name}")
        except ImportError:
            continue
        server = ThreadedServer(module.create_app(), port=port).start()
        print(f"  emulator {name:<13} {server.url}", flush=True)
        servers[name] = server
    return servers


def dev_config(servers: dict[str, ThreadedServer]) -> str:
    """The demo configuration with each backend pointed at its running emulator, as inline JSON."""
    document = json.loads(DEV_CONFIG.read_text(encoding="utf-8"))
    for backend in document["backends"]:
        server = servers.get(backend["provider"])
        if server is not None:
            backend[ENDPOINT_FIELDS[backend["provider"]]] = server.url
    return json.dumps(document)


def vertex_service_account(emulator_url: str) -> dict[str, str]:
    """A key file the running Vertex emulator trusts, from its admin API."""
    request = urllib.request.Request(f"{emulator_url}/_emulator/service-account", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        info: dict[str, str] = json.load(response)
    return info


def provide_vertex_credentials(servers: dict[str, ThreadedServer]) -> Path | None:
    """Put a trusted key in the dev app setting and in a key file; returns the file's directory."""
    if "vertex" not in servers:
        return None
    info = vertex_service_account(servers["vertex"].url)
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
    for name, default in EMULATORS.items():
        parser.add_argument(f"--{name.replace('_', '-')}-port", type=int, default=default, metavar="PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name, value in DEV_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    print("Starting provider emulators:", flush=True)
    emulators = start_emulators({name: getattr(args, f"{name}_port") for name in EMULATORS})
    key_directory = provide_vertex_credentials(emulators)
    servers = list(emulators.values())
    if not args.emulators_only:
        os.environ.setdefault("RELAY_CONFIG", dev_config(emulators))
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
