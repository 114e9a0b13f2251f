"""``make dev`` end to end: a fresh process serves real streams from the emulators."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import openai
import pytest

from bench.processes import free_port, wait_for_port
from devtools.emulators.scenario import DEFAULT_TEXT
from devtools.local_host import APP_ROOT


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


def test_openai_sdk_streams_the_azure_alias(dev_url: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev") as client:
        chunks = client.chat.completions.create(
            model="azure", messages=[{"role": "user", "content": "Hello"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == DEFAULT_TEXT


def test_curl_streams_the_azure_alias(dev_url: str) -> None:
    body = '{"model":"azure","stream":true,"messages":[{"role":"user","content":"Hi"}]}'
    result = subprocess.run(
        ["curl", "-sN", f"{dev_url}/api/v1/chat/completions", "-H", "Content-Type: application/json", "-d", body],
        capture_output=True,
        timeout=30,
        check=True,
    )
    lines = result.stdout.decode().split("\n\n")
    assert lines[0].startswith("data: {") and "data: [DONE]" in lines
