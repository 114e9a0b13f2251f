"""One relay for the whole fuzz session, serving every provider path, and the run's tally.

The relay is ``every_provider_relay_url`` from ``tests/conftest.py``: ``function_app.py`` hosted over real HTTP with
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
from tests.fuzz.exchange import HANG_SECONDS
from tests.fuzz.tally import TALLY
from tests.fuzz.watch import TracebackWatch, watching


@pytest.fixture(scope="session")
def fuzz_http(every_provider_relay_url: str) -> Iterator[httpx.Client]:
    """One keep-alive client for the whole run; headers come from each case."""
    with httpx.Client(base_url=every_provider_relay_url, timeout=HANG_SECONDS) as client:
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
