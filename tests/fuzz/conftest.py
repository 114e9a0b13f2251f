"""One relay for the whole fuzz session, serving every provider path, and the run's tally.

The relay is ``function_app.py`` hosted over real HTTP (``host_relay``) with
four aliases, one per provider path, each on its session emulator:
``azure`` (Azure OpenAI), ``bedrock`` (Bedrock Converse), ``vertex``
(Vertex's OpenAI-compatible API) and ``vertex-native`` (Gemini's own API).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.vertex import VertexEmulator
from tests.conftest import (
    AZURE_TEST_KEY,
    BEDROCK_ENV,
    azure_backend,
    bedrock_backend,
    serve_relay,
    vertex_backend,
    vertex_key_file,
)
from tests.fuzz.exchange import HANG_SECONDS
from tests.fuzz.tally import TALLY
from tests.fuzz.watch import TracebackWatch, watching


def fuzz_config(azure: str, bedrock: str, vertex: str) -> dict[str, object]:
    return {
        "backends": [
            azure_backend("azure-east", azure),
            bedrock_backend("bedrock-east", bedrock),
            vertex_backend("vertex-openai", vertex, "openai"),
            vertex_backend("vertex-native", vertex, "native"),
        ],
        "models": {
            "azure": ["azure-east"],
            "bedrock": ["bedrock-east"],
            "vertex": ["vertex-openai"],
            "vertex-native": ["vertex-native"],
        },
    }


@pytest.fixture(scope="session")
def fuzz_relay_url(
    azure_emulator: AzureOpenAIEmulator, bedrock_emulator: BedrockEmulator, vertex_emulator: VertexEmulator
) -> Iterator[str]:
    """The session's relay, with an alias per provider path."""
    urls = [emulator.url for emulator in (azure_emulator, bedrock_emulator, vertex_emulator)]  # type: ignore[attr-defined]
    environ = {"AZURE_TEST_KEY": AZURE_TEST_KEY, **BEDROCK_ENV, **vertex_key_file(urls[2])}
    with serve_relay(fuzz_config(*urls), environ) as url:
        yield url


@pytest.fixture(scope="session")
def fuzz_http(fuzz_relay_url: str) -> Iterator[httpx.Client]:
    """One keep-alive client for the whole run; headers come from each case."""
    with httpx.Client(base_url=fuzz_relay_url, timeout=HANG_SECONDS) as client:
        yield client


@pytest.fixture
def healthy_emulators(azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator) -> None:
    """Every emulator without scenarios (no test before left a fault scripted) and with an empty request log."""


@pytest.fixture
def traceback_watch() -> Iterator[TracebackWatch]:
    with watching() as watch:
        yield watch


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fuzz run in one screen, whenever fuzz cases ran."""
    if TALLY.sent:
        terminalreporter.section("relay fuzz summary")
        terminalreporter.write_line(TALLY.summary())
