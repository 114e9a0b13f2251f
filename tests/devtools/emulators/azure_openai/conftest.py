"""The Azure OpenAI emulator every test in this folder talks to, and an ``openai`` SDK client for it.

Each test module gets its own emulator on its own server; every test starts
with an empty scenario book and request log.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import API_KEY, API_VERSION


@pytest.fixture(scope="module")
def emulator() -> AzureOpenAIEmulator:
    return AzureOpenAIEmulator(api_keys={API_KEY})


@pytest.fixture(scope="module")
def server(emulator: AzureOpenAIEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(emulator) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(emulator: AzureOpenAIEmulator) -> None:
    emulator.book.clear()
    emulator.recorder.clear()


@pytest.fixture
def client(server: ThreadedServer) -> Iterator[openai.AzureOpenAI]:
    azure = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=API_KEY, api_version=API_VERSION, max_retries=0, timeout=10
    )
    yield azure
    azure.close()
