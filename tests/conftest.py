"""Fixtures that start real servers: provider emulators and relays on loopback.

Fixtures only: what they are built from (backend entries, hosted relays, the
test secrets) lives in :mod:`tests.builders`, which test modules import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.azure_openai import create_app as create_azure_emulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.bedrock import create_app as create_bedrock_emulator
from devtools.emulators.vertex import VertexEmulator
from devtools.emulators.vertex import create_app as create_vertex_emulator
from devtools.threaded_server import ThreadedServer
from tests.builders import (
    AUTH_HEADERS,
    AZURE_TEST_KEY,
    BEDROCK_ENV,
    RELAY_TEST_KEY,
    bedrock_backend,
    every_provider_config,
    host_relay,
    reset_emulator,
    serve_emulator,
    serve_relay,
    single_azure_config,
    vertex_key_file,
)

pytest_plugins = ["tests.secret_guard", "tests.azurite", "pytester"]


@pytest.fixture(scope="session")
def azure_emulator() -> Iterator[AzureOpenAIEmulator]:
    """The Azure OpenAI emulator, shared by the session; scenarios reset per test."""
    yield from serve_emulator(create_azure_emulator())


@pytest.fixture
def azure(azure_emulator: AzureOpenAIEmulator) -> Iterator[AzureOpenAIEmulator]:
    """The Azure emulator with no per-backend scenarios and an empty request log."""
    yield from reset_emulator(azure_emulator)


@pytest.fixture(scope="session")
def relay_url(azure_emulator: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay whose alias ``azure`` is one Azure deployment on the emulator.

    The relay remembers backend health (cooldowns, circuit breaker) for the
    whole session, so a test that makes the upstream fail uses
    ``fresh_relay_url`` instead.
    """
    server = host_relay(single_azure_config(azure_emulator), {"AZURE_TEST_KEY": AZURE_TEST_KEY})
    yield server.url
    server.stop()


@pytest.fixture
def fresh_relay_url(azure_emulator: AzureOpenAIEmulator) -> Iterator[str]:
    """Like ``relay_url``, but a new relay for each test: no cooldown or open circuit carries over."""
    server = host_relay(single_azure_config(azure_emulator), {"AZURE_TEST_KEY": AZURE_TEST_KEY})
    yield server.url
    server.stop()


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
        server.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ---------------------------------------------------------------- Vertex AI


@pytest.fixture(scope="session")
def vertex_emulator() -> Iterator[VertexEmulator]:
    """The Vertex emulator, token endpoint included, shared by the session; scenarios reset per test."""
    yield from serve_emulator(create_vertex_emulator())


@pytest.fixture
def vertex(vertex_emulator: VertexEmulator) -> Iterator[VertexEmulator]:
    """The Vertex emulator with no per-model scenarios and an empty request log."""
    yield from reset_emulator(vertex_emulator)


# ---------------------------------------------------------------- Bedrock


@pytest.fixture(scope="session")
def bedrock_emulator() -> Iterator[BedrockEmulator]:
    """The Bedrock emulator, shared by the session; scenarios reset per test."""
    yield from serve_emulator(create_bedrock_emulator())


@pytest.fixture
def bedrock(bedrock_emulator: BedrockEmulator) -> Iterator[BedrockEmulator]:
    """The Bedrock emulator with no per-model scenarios and an empty request log."""
    yield from reset_emulator(bedrock_emulator)


@pytest.fixture
def bedrock_relay_url(bedrock_emulator: BedrockEmulator) -> Iterator[str]:
    """A relay whose alias ``bedrock`` is one Bedrock model on the emulator.

    A new relay per test: the router remembers cooldowns and open circuits.
    """
    config = {
        "backends": [bedrock_backend("bedrock-east", bedrock_emulator.url)],
        "models": {"bedrock": ["bedrock-east"]},
    }
    with serve_relay(config, BEDROCK_ENV) as relay:
        yield relay


@pytest.fixture
def bedrock_http(bedrock_relay_url: str) -> Iterator[httpx.Client]:
    """Like ``http``, on the relay whose alias ``bedrock`` is the Bedrock emulator."""
    with httpx.Client(base_url=bedrock_relay_url, timeout=30, headers=AUTH_HEADERS) as session:
        yield session


@pytest.fixture
def bedrock_client(bedrock_relay_url: str) -> Iterator[openai.OpenAI]:
    """The real OpenAI SDK pointed at the Bedrock relay."""
    with openai.OpenAI(base_url=f"{bedrock_relay_url}/api/v1", api_key="relay-client-key", max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="session")
def every_provider_relay_url(
    azure_emulator: AzureOpenAIEmulator, bedrock_emulator: BedrockEmulator, vertex_emulator: VertexEmulator
) -> Iterator[str]:
    """The session's relay with an alias per provider path, for tests that sweep all four."""
    urls = [emulator.url for emulator in (azure_emulator, bedrock_emulator, vertex_emulator)]
    environ = {"AZURE_TEST_KEY": AZURE_TEST_KEY, **BEDROCK_ENV, **vertex_key_file(urls[2])}
    with serve_relay(every_provider_config(*urls), environ) as url:
        yield url


@pytest.fixture
def every_provider_sdk(every_provider_relay_url: str) -> Iterator[openai.OpenAI]:
    """The openai SDK on the every-provider relay, with the test key and no retries."""
    with openai.OpenAI(base_url=f"{every_provider_relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def alias_emulators(
    azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator
) -> dict[str, AzureOpenAIEmulator | BedrockEmulator | VertexEmulator]:
    """The emulator each alias of the every-provider relay reaches, reset for the test."""
    return {"azure": azure, "bedrock": bedrock, "vertex": vertex, "vertex-native": vertex}
