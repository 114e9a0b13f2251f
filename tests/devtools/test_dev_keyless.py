"""``make dev``'s keyless mode end to end: a fresh process streams every alias with no cloud key.

Azure OpenAI by an Entra token, Bedrock through AWS STS, Vertex through
Google STS and impersonation, all from the emulated managed identity; the
provider emulators accept nothing else, and the federation emulator's counts
show each exchange happened.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest

from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes, wait_for_port


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("azure-openai", "bedrock", "vertex", "federation")}


@pytest.fixture(scope="module")
def keyless_dev_url(ports: dict[str, int]) -> Iterator[str]:
    port = free_port()
    flags = [f"--{name}-port={value}" for name, value in ports.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.dev", "--keyless", "--port", str(port), *flags],
        cwd=APP_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_processes([process], grace=15)
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.parametrize("alias", ["azure", "bedrock", "vertex", "vertex-native"])
def test_every_alias_streams_without_a_key(keyless_dev_url: str, alias: str) -> None:
    with openai.OpenAI(base_url=f"{keyless_dev_url}/api/v1", api_key="dev-relay-key") as client:
        chunks = client.chat.completions.create(
            model=alias, messages=[{"role": "user", "content": inline_prompt(chunks=4)}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == DEFAULT_TEXT


def test_the_streams_went_through_the_exchanges(keyless_dev_url: str, ports: dict[str, int]) -> None:
    with openai.OpenAI(base_url=f"{keyless_dev_url}/api/v1", api_key="dev-relay-key") as client:
        for alias in ("bedrock", "vertex", "vertex-native"):
            client.chat.completions.create(model=alias, messages=[{"role": "user", "content": "hi"}])
    counts = httpx.get(f"http://127.0.0.1:{ports['federation']}/_emulator/federation").json()
    # One exchange per backend, cached for every later stream: one Bedrock backend, two Vertex ones.
    assert (counts["aws_sts"], counts["google_sts"], counts["google_impersonation"]) == (1, 2, 2)
    assert counts["managed_identity"] >= 1
    bedrock = httpx.get(f"http://127.0.0.1:{ports['bedrock']}/_emulator/requests").json()["requests"]
    assert bedrock and {request["status"] for request in bedrock} == {200}
