"""What tests build: backend entries, relay configurations, hosted relays and the test secrets.

Plain functions and constants, importable from any test module; the fixtures
in ``tests/conftest.py`` are built from them. A relay here is
``function_app.py`` imported afresh with its own environment and hosted by
``devtools.local_host`` (the same registered functions the Functions worker
would serve) under uvicorn on a free port. Every relay is wrapped in the
secret guard's response scanner, and one without an ``auth`` section gets
:data:`TEST_AUTH`: the relay key the client fixtures send.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.emulator import Emulator
from devtools.emulators.vertex import make_service_account_info
from devtools.local_host import APP_ROOT, build_asgi_app, function_app_of, import_app_module, route_prefix
from devtools.threaded_server import ThreadedServer
from shared.application import Application
from shared.auth.relay_keys import hash_key
from tests.secret_guard import ScanResponses, register_secret

AZURE_TEST_KEY = register_secret("azure-test-key-9f8e7d6c5b4a", "AZURE_TEST_KEY")
RELAY_TEST_KEY = register_secret("relay-client-key", "RELAY_TEST_KEY")
TEST_AUTH: dict[str, Any] = {"relay_keys": [{"name": "tests", "sha256": hash_key(RELAY_TEST_KEY), "models": ["*"]}]}
AUTH_HEADERS = {"Authorization": f"Bearer {RELAY_TEST_KEY}"}


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---------------------------------------------------------------- emulators

E = TypeVar("E", bound=Emulator)


def serve_emulator(emulator: E) -> Iterator[E]:
    """Serve ``emulator`` on a free port for the session; its ``url`` says where."""
    with ThreadedServer(emulator) as server:
        emulator.url = server.url
        yield emulator


def reset_emulator(emulator: E) -> Iterator[E]:
    """``emulator`` with no per-backend scenarios and an empty request log, for one test."""
    emulator.book.clear()
    emulator.recorder.clear()
    yield emulator
    emulator.book.clear()


# ---------------------------------------------------------------- relays


class RelayServer(ThreadedServer):
    """A hosted relay that closes its upstream clients before its event loop ends.

    Otherwise a pooled keep-alive connection to an emulator outlives the loop
    and surfaces as an "unclosed transport" ResourceWarning, an error here.
    """

    def __init__(self, app: Any, relay: Application) -> None:
        super().__init__(app)
        self.relay = relay

    def stop(self) -> None:
        if self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.relay.aclose(), self.loop).result(timeout=10)
        super().stop()


def host_relay(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> RelayServer:
    """Import ``function_app.py`` with ``config`` and serve it on a free port."""
    values = {"RELAY_CONFIG": json.dumps({"auth": TEST_AUTH, **config}), **(environ or {})}
    with patched_environ(values):
        module = import_app_module(APP_ROOT / "function_app.py")
    app = build_asgi_app(function_app_of(module), route_prefix(APP_ROOT / "host.json"))
    return RelayServer(ScanResponses(app), module.application).start()


@contextmanager
def serve_relay(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> Iterator[str]:
    """:func:`host_relay` as a context manager: yields its URL, then stops it cleanly."""
    server = host_relay(config, environ)
    try:
        yield server.url
    finally:
        server.stop()


# ---------------------------------------------------------------- Azure OpenAI


def azure_backend(name: str, emulator_url: str, **overrides: Any) -> dict[str, Any]:
    """An Azure OpenAI backend entry pointing at the emulator."""
    return {
        "name": name,
        "provider": "azure_openai",
        "endpoint": emulator_url,
        "deployment": overrides.pop("deployment", name),
        "api_version": "2024-10-21",
        "api_key_setting": "AZURE_TEST_KEY",
        **overrides,
    }


def single_azure_config(emulator: AzureOpenAIEmulator) -> dict[str, Any]:
    """The alias ``azure`` served by one deployment, ``azure-east``, on the emulator."""
    return {
        "backends": [azure_backend("azure-east", emulator.url)],
        "models": {"azure": ["azure-east"]},
    }


# ---------------------------------------------------------------- Vertex AI

VERTEX_CREDENTIALS_SETTING = "VERTEX_TEST_CREDENTIALS"


def vertex_backend(name: str, emulator_url: str, api: str = "openai", **overrides: Any) -> dict[str, Any]:
    """A Vertex backend entry pointing at the emulator, authenticating with a key file in an app setting."""
    return {
        "name": name,
        "provider": "vertex",
        "project": "demo-project",
        "location": "us-central1",
        "model": overrides.pop("model", "gemini-2.0-flash-001"),
        "api": api,
        "endpoint_url": emulator_url,
        "credentials_setting": VERTEX_CREDENTIALS_SETTING,
        **overrides,
    }


def vertex_key_file(emulator_url: str) -> dict[str, str]:
    """App settings holding a fresh service-account key whose token_uri is the emulator."""
    info = make_service_account_info(token_uri=f"{emulator_url}/token")
    return {VERTEX_CREDENTIALS_SETTING: json.dumps(info)}


# ---------------------------------------------------------------- Bedrock

BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
BEDROCK_ENV = {"BEDROCK_TEST_KEY_ID": "AKIDBEDROCKTEST", "BEDROCK_TEST_SECRET": "bedrock-test-secret-5e4d3c2b1a"}


def bedrock_backend(name: str, emulator_url: str, **overrides: Any) -> dict[str, Any]:
    """A Bedrock backend entry pointing at the emulator, keys from BEDROCK_ENV's settings."""
    return {
        "name": name,
        "provider": "bedrock",
        "model_id": BEDROCK_MODEL,
        "region": "us-east-1",
        "endpoint_url": emulator_url,
        "access_key_id_setting": "BEDROCK_TEST_KEY_ID",
        "secret_access_key_setting": "BEDROCK_TEST_SECRET",
        **overrides,
    }


# ---------------------------------------------------------------- every provider


def every_provider_config(azure_url: str, bedrock_url: str, vertex_url: str) -> dict[str, Any]:
    """One alias per provider path: ``azure``, ``bedrock``, ``vertex`` (OpenAI API) and ``vertex-native``."""
    return {
        "backends": [
            azure_backend("azure-east", azure_url),
            bedrock_backend("bedrock-east", bedrock_url),
            vertex_backend("vertex-openai", vertex_url),
            vertex_backend("vertex-gemini", vertex_url, api="native"),
        ],
        "models": {
            "azure": ["azure-east"],
            "bedrock": ["bedrock-east"],
            "vertex": ["vertex-openai"],
            "vertex-native": ["vertex-gemini"],
        },
    }


def only_upstream_body(emulator: Any) -> dict[str, Any]:
    """The body of the one request ``emulator`` received since its reset."""
    records = emulator.recorder.records
    assert len(records) == 1, f"the upstream got {len(records)} requests, not one"
    body: dict[str, Any] = records[0].body
    return body


@contextmanager
def serve_cross_provider_relay(azure: Any, bedrock: Any, vertex: Any, vertex_api: str) -> Iterator[str]:
    """A relay whose alias ``chat`` fails over from Azure to Bedrock to Vertex (``vertex_api``), in that order."""
    config = {
        "backends": [
            azure_backend("azure-first", azure.url, priority=1),
            bedrock_backend("bedrock-second", bedrock.url, priority=2),
            vertex_backend("vertex-third", vertex.url, vertex_api, priority=3),
        ],
        "models": {"chat": ["azure-first", "bedrock-second", "vertex-third"]},
    }
    environ = {"AZURE_TEST_KEY": AZURE_TEST_KEY, **BEDROCK_ENV, **vertex_key_file(vertex.url)}
    with serve_relay(config, environ) as url:
        yield url
