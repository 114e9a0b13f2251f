"""``make dev``: every provider emulator plus the relay, so real streams work with no cloud account.

The emulators listen on loopback ports, those of :mod:`devtools.ports` unless flags say otherwise;
the demo configuration (``devtools/config/relay.dev.json``) is pointed at the
ports actually used, so tests can run a whole dev setup on free ports while a
developer's own ``make dev`` holds the defaults. The relay is served by the
local host exactly as ``make serve`` would serve it.

Vertex authenticates for real: the Vertex emulator hands out a service-account
key it trusts, written to a key file that ``GOOGLE_APPLICATION_CREDENTIALS``
names (the demo backends use Application Default Credentials), so the relay
signs JWTs and fetches, caches and refreshes tokens as in Azure.

``make emulators`` (``--emulators-only``) is the ``func start`` path: it keeps
the default ports the demo configuration names and writes the key file to
``.dev/vertex-service-account.json``, the path ``local.settings.json.example``
gives, so a copied example needs no editing. ``make dev`` writes its key file
to a temporary directory instead, so tests running it on free ports never
replace the key a developer's ``func start`` uses.
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
from collections.abc import Mapping
from pathlib import Path

from .example_backend import TOKEN_PATH, ExampleBackend
from .keyless import FEDERATION_PORT, keyless_config, start_keyless_emulators
from .local_host import APP_ROOT, create_host, describe_routes
from .ports import EMULATOR_PORTS, relay_port
from .threaded_server import ThreadedServer

DEV_CONFIG = APP_ROOT / "devtools" / "config" / "relay.dev.json"

# The field of each provider's backend settings that holds its endpoint.
ENDPOINT_FIELDS = {"azure_openai": "endpoint", "bedrock": "endpoint_url", "vertex": "endpoint_url"}

# Application Default Credentials: the demo's Vertex backends read their key file from here.
ADC_SETTING = "GOOGLE_APPLICATION_CREDENTIALS"
# Where ``--emulators-only`` writes the Vertex key file; local.settings.json.example names it.
VERTEX_KEY_FILE = APP_ROOT / ".dev" / "vertex-service-account.json"

# Placeholder credentials the emulators accept; never real secrets. local.settings.json.example holds the same.
DEV_ENVIRONMENT = {
    "DEV_AZURE_OPENAI_KEY": "dev-only-azure-key",
    "AWS_ACCESS_KEY_ID": "AKIDEVONLYEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "dev-only-aws-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# The demo configuration's relay key (its sha256 is in relay.dev.json), held by the example backend.
DEV_RELAY_KEY = "dev-relay-key"
# Lets the example backend mint browser tokens for the demo page's "browser token" mode. Only
# ``make dev`` serves that backend, so the func start path (local.settings.json.example) needs neither.
DEV_BROWSER_TOKEN_SETTING = "DEV_BROWSER_TOKEN_SECRET"
DEV_BROWSER_TOKENS: dict[str, object] = {"secret_setting": DEV_BROWSER_TOKEN_SETTING, "max_ttl_minutes": 15}
DEV_BROWSER_TOKEN_SECRET = "dev-only-browser-token-secret-not-for-deployment"


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


def dev_config(urls: Mapping[str, str]) -> str:
    """The demo configuration with each backend pointed at its emulator's URL, as inline JSON."""
    document = json.loads(DEV_CONFIG.read_text(encoding="utf-8"))
    for backend in document["backends"]:
        url = urls.get(backend["provider"])
        if url is not None:
            backend[ENDPOINT_FIELDS[backend["provider"]]] = url
    return json.dumps(document)


def with_browser_tokens(config: str) -> str:
    """``config`` that also mints browser tokens, for the example backend ``make dev`` serves."""
    document = json.loads(config)
    document["auth"].setdefault("browser_tokens", DEV_BROWSER_TOKENS)
    return json.dumps(document)


def vertex_service_account(emulator_url: str) -> dict[str, str]:
    """A key file the running Vertex emulator trusts, from its admin API."""
    request = urllib.request.Request(f"{emulator_url}/_emulator/service-account", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        info: dict[str, str] = json.load(response)
    return info


def provide_vertex_credentials(servers: dict[str, ThreadedServer], key_file: Path) -> bool:
    """Write a key the Vertex emulator trusts to ``key_file`` and name it in ``GOOGLE_APPLICATION_CREDENTIALS``.

    The setting is overridden, not defaulted: a developer's own Google key
    would be sent to the emulator's token endpoint and refused.
    """
    if "vertex" not in servers:
        return False
    info = vertex_service_account(servers["vertex"].url)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps(info, indent=2), encoding="utf-8")
    key_file.chmod(0o600)
    os.environ[ADC_SETTING] = str(key_file)
    print(f"  vertex key file        {key_file} ({ADC_SETTING})", flush=True)
    return True


def vertex_key_location(requested: Path | None, emulators_only: bool) -> tuple[Path, Path | None]:
    """Where the Vertex key file goes, and the temporary directory to remove at exit, if any."""
    if requested is not None:
        return requested, None
    if emulators_only:
        return VERTEX_KEY_FILE, None
    directory = Path(tempfile.mkdtemp(prefix="relay-dev-"))
    return directory / VERTEX_KEY_FILE.name, directory


def try_lines(port: int) -> list[str]:
    """What to try once the relay listens: the demo chat page, then a curl."""
    return [
        f"\nDemo chat page: http://localhost:{port}/api/ui",
        "\nTry:",
        f"  curl -N http://localhost:{port}/api/v1/chat/completions "
        "-H 'Content-Type: application/json' "
        '-d \'{"model":"azure","stream":true,"messages":[{"role":"user","content":"Hi"}]}\'',
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the relay against local provider emulators.")
    parser.add_argument("--port", type=int, default=relay_port())
    parser.add_argument("--emulators-only", action="store_true", help="the func start path: emulators and key file")
    parser.add_argument("--vertex-key-file", type=Path, help=f"default: {VERTEX_KEY_FILE} with --emulators-only")
    parser.add_argument(
        "--keyless",
        action="store_true",
        default=os.environ.get("RELAY_DEV_KEYLESS") == "1",
        help="no cloud keys: federate an emulated managed identity (also RELAY_DEV_KEYLESS=1)",
    )
    parser.add_argument("--federation-port", type=int, default=FEDERATION_PORT, metavar="PORT")
    # A backend is pointed at the emulator named like its provider.
    for name, default in EMULATOR_PORTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}-port", type=int, default=default, metavar="PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ports = {name: getattr(args, f"{name}_port") for name in EMULATOR_PORTS}
    key_directory = None
    if args.keyless:
        print("Starting provider emulators, keyless:", flush=True)
        emulators = start_keyless_emulators(ports, args.federation_port)
        config = keyless_config({name: server.url for name, server in emulators.items()})
    else:
        for name, value in DEV_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
        print("Starting provider emulators:", flush=True)
        emulators = start_emulators(ports)
        key_file, key_directory = vertex_key_location(args.vertex_key_file, args.emulators_only)
        provide_vertex_credentials(emulators, key_file)
        config = dev_config({name: server.url for name, server in emulators.items()})
    servers = list(emulators.values())
    if not args.emulators_only:
        os.environ.setdefault(DEV_BROWSER_TOKEN_SETTING, DEV_BROWSER_TOKEN_SECRET)
        os.environ.setdefault("RELAY_CONFIG", with_browser_tokens(config))
        app = create_host(Path(APP_ROOT))
        # The demo page's backend shares the relay's origin, as a page and its API often do behind one front door.
        example = ExampleBackend(DEV_RELAY_KEY)
        relay = ThreadedServer(example.in_front_of(app), port=args.port, host="127.0.0.1").start()
        example.relay_url = relay.url
        servers.append(relay)
        print(f"\nRelay listening on http://localhost:{args.port}", flush=True)
        for line in describe_routes(app):
            print(f"  {line}", flush=True)
        print(f"  {'POST':<12} {TOKEN_PATH}  (example page backend: mints browser tokens)", flush=True)
        print("\n".join(try_lines(args.port)), flush=True)
    else:
        print("\nfunc start path: cp local.settings.json.example local.settings.json && func start", flush=True)
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
