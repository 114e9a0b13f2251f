"""Fixtures that start real servers: provider emulators and relays on loopback.

A relay here is ``function_app.py`` imported afresh with its own environment
and hosted by ``devtools.local_host`` — the same registered functions the
Functions worker would serve — under uvicorn on a free port. Every relay is
wrapped in the secret guard's response scanner, and one without an ``auth``
section gets :data:`TEST_AUTH`: the relay key the client fixtures send.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.azure_openai import create_app as create_azure_emulator
from devtools.local_host import APP_ROOT, build_asgi_app, import_function_module, registered_app, route_prefix
from devtools.threaded_server import ThreadedServer
from shared.auth.relay_keys import hash_key
from tests.secret_guard import ScanResponses, register_secret

pytest_plugins = ["tests.secret_guard", "tests.azurite", "pytester"]

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


def host_relay(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> ThreadedServer:
    """Import ``function_app.py`` with ``config`` and serve it on a free port."""
    values = {"RELAY_CONFIG": json.dumps({"auth": TEST_AUTH, **config}), **(environ or {})}
    with patched_environ(values):
        module = import_function_module(APP_ROOT / "function_app.py")
    app = build_asgi_app(registered_app(module, APP_ROOT / "function_app.py"), route_prefix(APP_ROOT / "host.json"))
    server = ThreadedServer(ScanResponses(app)).start()
    server.relay = module.relay  # type: ignore[attr-defined]
    return server


def stop_relay(server: ThreadedServer) -> None:
    """Close the relay's clients on its own loop, then stop serving: no connection is left to the GC."""
    if server.loop is not None and server.loop.is_running():
        asyncio.run_coroutine_threadsafe(server.relay.aclose(), server.loop).result(timeout=10)  # type: ignore[attr-defined]
    server.stop()


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


@pytest.fixture(scope="session")
def azure_emulator() -> Iterator[AzureOpenAIEmulator]:
    """The Azure OpenAI emulator, shared by the session; scenarios reset per test."""
    emulator = create_azure_emulator()
    with ThreadedServer(emulator) as server:
        emulator.url = server.url  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def azure(azure_emulator: AzureOpenAIEmulator) -> Iterator[AzureOpenAIEmulator]:
    """The Azure emulator with no per-backend scenarios and an empty request log."""
    azure_emulator.book.clear()
    azure_emulator.recorder.clear()
    yield azure_emulator
    azure_emulator.book.clear()


@pytest.fixture(scope="session")
def relay_url(azure_emulator: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay whose alias ``azure`` is one Azure deployment on the emulator."""
    config = {
        "backends": [azure_backend("azure-east", azure_emulator.url)],  # type: ignore[attr-defined]
        "models": {"azure": ["azure-east"]},
    }
    server = host_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY})
    yield server.url
    stop_relay(server)


@pytest.fixture
def client(relay_url: str) -> Iterator[openai.OpenAI]:
    """The real OpenAI SDK pointed at the relay."""
    with openai.OpenAI(base_url=f"{relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def async_client(relay_url: str) -> openai.AsyncOpenAI:
    """The real async OpenAI SDK pointed at the relay."""
    return openai.AsyncOpenAI(base_url=f"{relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0)


@pytest.fixture
def http(relay_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client for the relay (with the test relay key), for requests an SDK would refuse to send."""
    with httpx.Client(base_url=relay_url, timeout=30, headers=AUTH_HEADERS) as session:
        yield session


@pytest.fixture
def start_relay() -> Iterator[Callable[..., ThreadedServer]]:
    """Host relays with their own configuration for one test; all are stopped afterwards."""
    servers: list[ThreadedServer] = []

    def start(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> ThreadedServer:
        server = host_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY, **(environ or {})})
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_relay(server)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Collector = Callable[..., str]
