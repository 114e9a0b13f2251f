"""``make dev`` end to end: a fresh process serves real streams from every emulator.

Vertex authenticates for real even here: emulator-issued key, JWT grant, bearer token.
The emulators run on free ports while the default ones (``devtools.ports``) are held by this
module, as they are when a developer keeps ``make dev`` open while running the tests.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest

from devtools.dev import try_lines
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.local_host import APP_ROOT
from devtools.ports import EMULATOR_PORTS
from devtools.processes import free_port, stop_processes, wait_for_port

DEFAULT_EMULATOR_PORTS = tuple(EMULATOR_PORTS.values())


def hold_ports(ports: tuple[int, ...]) -> list[socket.socket]:
    """Listen on ``ports`` as a running ``make dev`` would; a port already taken is held already."""
    held = []
    for port in ports:
        listener = socket.socket()
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen()
        except OSError:
            listener.close()
            continue
        held.append(listener)
    return held


@pytest.fixture(scope="module")
def emulator_ports() -> dict[str, int]:
    return {"azure_openai": free_port(), "bedrock": free_port(), "vertex": free_port()}


@pytest.fixture(scope="module")
def dev_url(emulator_ports: dict[str, int]) -> Iterator[str]:
    port = free_port()
    held = hold_ports(DEFAULT_EMULATOR_PORTS)
    flags = [f"--{name.replace('_', '-')}-port={emulator_port}" for name, emulator_port in emulator_ports.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.dev", "--port", str(port), *flags],
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
        for listener in held:
            listener.close()


def test_openai_sdk_streams_the_azure_alias(dev_url: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev-relay-key") as client:
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


def test_the_demo_page_is_served_and_announced(dev_url: str) -> None:
    page = httpx.get(f"{dev_url}/api/ui", timeout=10)
    assert page.status_code == 200 and "ui/demo.js" in page.text
    port = dev_url.rsplit(":", 1)[1]
    assert f"Demo chat page: http://localhost:{port}/api/ui" in "\n".join(try_lines(int(port)))


def test_the_typed_event_route_streams_the_azure_alias(dev_url: str) -> None:
    with httpx.stream("POST", f"{dev_url}/api/chat", json={"model": "azure", "prompt": "Hi"}, timeout=30) as response:
        body = response.read().decode()
    deltas = [json.loads(line[6:])["content"] for line in body.split("\n") if line.startswith('data: {"content"')]
    assert "".join(deltas) == DEFAULT_TEXT
    assert body.endswith('event: done\ndata: {"finish_reason":"stop"}\n\n')


@pytest.mark.parametrize("alias", ["bedrock", "vertex", "vertex-native"])
def test_openai_sdk_streams_the_other_aliases(dev_url: str, alias: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev-relay-key") as client:
        chunks = client.chat.completions.create(
            model=alias, messages=[{"role": "user", "content": inline_prompt(chunks=8)}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == DEFAULT_TEXT


def test_dev_relay_uses_tokens_the_emulator_issued(dev_url: str, emulator_ports: dict[str, int]) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev-relay-key") as client:
        client.chat.completions.create(model="vertex", messages=[{"role": "user", "content": "hi"}])
    vertex_emulator = f"http://127.0.0.1:{emulator_ports['vertex']}"
    tokens = httpx.get(f"{vertex_emulator}/_emulator/tokens").json()["tokens"]
    requests = httpx.get(f"{vertex_emulator}/_emulator/requests").json()["requests"]
    assert requests[-1]["status"] == 200
    assert requests[-1]["auth"] in {f"Bearer {token['token']}" for token in tokens}


def test_dev_models_list_every_alias(dev_url: str) -> None:
    with openai.OpenAI(base_url=f"{dev_url}/api/v1", api_key="dev-relay-key") as client:
        assert {model.id for model in client.models.list()} >= {"azure", "bedrock", "vertex", "vertex-native"}


def test_the_example_backend_mints_browser_tokens_the_dev_relay_accepts(dev_url: str) -> None:
    minted = httpx.post(f"{dev_url}/example/browser-token", timeout=10)
    assert minted.status_code == 200 and "dev-relay-key" not in minted.text
    token = minted.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("POST", f"{dev_url}/api/chat", json={"model": "azure", "prompt": "Hi"}, headers=headers) as reply:
        assert reply.status_code == 200
        body = reply.read().decode()
    assert "event: done" in body
    refused = httpx.post(
        f"{dev_url}/api/chat", json={"model": "azure", "prompt": "Hi"}, headers={"Authorization": "Bearer rbt1.x.y"}
    )
    assert refused.status_code == 401, "the relay checks the token, not just its shape"
