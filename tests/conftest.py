"""Fixtures that start real servers: provider emulators and relays on loopback.

A relay here is ``function_app.py`` imported afresh with its own environment
and hosted by ``devtools.local_host`` — the same registered functions the
Functions worker would serve — under uvicorn on a free port.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.azure_openai import create_app as create_azure_emulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.bedrock import create_app as create_bedrock_emulator
from devtools.local_host import APP_ROOT, build_asgi_app, import_function_app, route_prefix
from devtools.threaded_server import ThreadedServer

AZURE_TEST_KEY = "azure-test-key-9f8e7d6c5b4a"


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
    values = {"RELAY_CONFIG": json.dumps(config), **(environ or {})}
    with patched_environ(values):
        function_app = import_function_app(APP_ROOT / "function_app.py")
    app = build_asgi_app(function_app, route_prefix(APP_ROOT / "host.json"))
    return ThreadedServer(app).start()


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
    server.stop()


@pytest.fixture
def client(relay_url: str) -> Iterator[openai.OpenAI]:
    """The real OpenAI SDK pointed at the relay."""
    with openai.OpenAI(base_url=f"{relay_url}/api/v1", api_key="relay-client-key", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def async_client(relay_url: str) -> openai.AsyncOpenAI:
    """The real async OpenAI SDK pointed at the relay."""
    return openai.AsyncOpenAI(base_url=f"{relay_url}/api/v1", api_key="relay-client-key", max_retries=0)


@pytest.fixture
def http(relay_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client for the relay, for requests an SDK would refuse to send."""
    with httpx.Client(base_url=relay_url, timeout=30) as session:
        yield session


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Collector = Callable[..., str]


# --- Bedrock -------------------------------------------------------------------------

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


@contextmanager
def closing_relay(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> Iterator[ThreadedServer]:
    """``host_relay``, closing the relay's SDK clients on its own loop before the server stops.

    The Bedrock adapter's aiohttp pool warns when garbage collected unclosed,
    which the suite's warnings-as-errors would report against a later test.
    """
    values = {"RELAY_CONFIG": json.dumps(config), **(environ or {})}
    spec = importlib.util.spec_from_file_location(f"function_app_{uuid.uuid4().hex[:8]}", APP_ROOT / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with patched_environ(values):
        spec.loader.exec_module(module)
    server = ThreadedServer(build_asgi_app(module.app, route_prefix(APP_ROOT / "host.json"))).start()
    relay = module.relay
    try:
        yield server
    finally:
        assert server.loop is not None
        asyncio.run_coroutine_threadsafe(relay.aclose(), server.loop).result(timeout=10)
        server.stop()


@pytest.fixture(scope="session")
def bedrock_emulator() -> Iterator[BedrockEmulator]:
    """The Bedrock emulator, shared by the session; scenarios reset per test."""
    emulator = create_bedrock_emulator()
    with ThreadedServer(emulator) as server:
        emulator.url = server.url  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def bedrock(bedrock_emulator: BedrockEmulator) -> Iterator[BedrockEmulator]:
    """The Bedrock emulator with no per-model scenarios and an empty request log."""
    bedrock_emulator.book.clear()
    bedrock_emulator.recorder.clear()
    yield bedrock_emulator
    bedrock_emulator.book.clear()


@pytest.fixture(scope="session")
def bedrock_relay_url(bedrock_emulator: BedrockEmulator) -> Iterator[str]:
    """A relay whose alias ``bedrock`` is one Bedrock model on the emulator."""
    config = {
        "backends": [bedrock_backend("bedrock-east", bedrock_emulator.url)],  # type: ignore[attr-defined]
        "models": {"bedrock": ["bedrock-east"]},
    }
    with closing_relay(config, BEDROCK_ENV) as server:
        yield server.url


@pytest.fixture
def bedrock_client(bedrock_relay_url: str) -> Iterator[openai.OpenAI]:
    """The real OpenAI SDK pointed at the Bedrock relay."""
    with openai.OpenAI(base_url=f"{bedrock_relay_url}/api/v1", api_key="relay-client-key", max_retries=0) as sdk:
        yield sdk
