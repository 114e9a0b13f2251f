"""``make dev`` serves the ``vertex`` aliases with the real token flow: emulator key, JWT grant, bearer token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest

from bench.processes import free_port, wait_for_port
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.local_host import APP_ROOT

VERTEX_EMULATOR = "http://127.0.0.1:8103"


@pytest.fixture(scope="module")
def dev_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.dev", "--port", str(port)],
        cwd=APP_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.parametrize("alias", ["vertex", "vertex-native"])
def test_openai_sdk_streams_the_vertex_aliases(dev_url: str, alias: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev") as client:
        chunks = client.chat.completions.create(
            model=alias, messages=[{"role": "user", "content": inline_prompt(chunks=8)}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == DEFAULT_TEXT


def test_dev_relay_uses_tokens_the_emulator_issued(dev_url: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev") as client:
        client.chat.completions.create(model="vertex", messages=[{"role": "user", "content": "hi"}])
    tokens = httpx.get(f"{VERTEX_EMULATOR}/_emulator/tokens").json()["tokens"]
    requests = httpx.get(f"{VERTEX_EMULATOR}/_emulator/requests").json()["requests"]
    assert requests[-1]["status"] == 200
    assert requests[-1]["auth"] in {f"Bearer {token['token']}" for token in tokens}


def test_dev_models_list_every_alias(dev_url: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev") as client:
        assert {model.id for model in client.models.list()} >= {"azure", "vertex", "vertex-native"}
