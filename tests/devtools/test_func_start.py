"""The README's ``func start`` path: ``local.settings.json.example`` plus ``make emulators``.

Core Tools cannot run here, so this does what it would: the example's Values
go into the environment (a clean one: nothing the example sets is inherited),
``function_app.py`` is imported through the local host, and every function it
registered must answer, with a stream from every alias. The emulators run as
``make emulators`` runs them, in their own process, but on free ports; the
example's dev configuration and key-file path are pointed at those, nothing
else is changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import openai
import pytest

from devtools.dev import DEV_CONFIG, DEV_ENVIRONMENT, VERTEX_KEY_FILE, dev_config
from devtools.emulators.scenario import DEFAULT_TEXT
from devtools.local_host import APP_ROOT, build_asgi_app, describe_routes, function_app_of, load_app_module
from devtools.ports import EMULATOR_PORTS
from devtools.processes import free_port, stop_processes, wait_for_port
from tests.builders import RelayServer
from tests.polling import wait_for
from tests.secret_guard import ScanResponses

EXAMPLE = APP_ROOT / "local.settings.json.example"
ALIASES = ("azure", "bedrock", "vertex", "vertex-native")
DEV_KEY = "dev-relay-key"  # the dev configuration's documented placeholder key


def example_values() -> dict[str, str]:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert document["IsEncrypted"] is False
    return {name: str(value) for name, value in document["Values"].items()}


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, int], Path]]:
    """``make emulators`` on free ports, writing the Vertex key file into a temporary directory."""
    ports = {name: free_port() for name in EMULATOR_PORTS}
    key_file = tmp_path_factory.mktemp("func-start") / "vertex-service-account.json"
    flags = [f"--{name.replace('_', '-')}-port={port}" for name, port in ports.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.dev", "--emulators-only", f"--vertex-key-file={key_file}", *flags],
        cwd=APP_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for port in ports.values():
            wait_for_port(port, process)
        assert wait_for(key_file.exists, seconds=15), "make emulators wrote no Vertex key file"
        yield ports, key_file
    finally:
        stop_processes([process], grace=15)


@dataclass(frozen=True)
class Hosted:
    """Where the hosted app listens, and the route paths it registered."""

    url: str
    routes: set[str]


@pytest.fixture(scope="module")
def func_start(emulators: tuple[dict[str, int], Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    """The app as ``func start`` would host it with ``local.settings.json`` copied from the example."""
    ports, key_file = emulators
    values = example_values()
    values["RELAY_CONFIG"] = dev_config({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    values["GOOGLE_APPLICATION_CREDENTIALS"] = str(key_file)
    root = tmp_path_factory.mktemp("app")
    for name in ("function_app.py", "host.json"):
        (root / name).symlink_to(APP_ROOT / name)
    (root / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    with mock.patch.dict(os.environ):
        for name in values:
            os.environ.pop(name, None)
        module = load_app_module(root)
    app = build_asgi_app(function_app_of(module))
    server = RelayServer(ScanResponses(app), module.application).start()
    try:
        yield Hosted(server.url, {line.split()[-1] for line in describe_routes(app)})
    finally:
        server.stop()


def test_the_example_names_the_dev_configuration_and_settings() -> None:
    values = example_values()
    assert Path(values["RELAY_CONFIG"]) == DEV_CONFIG.relative_to(APP_ROOT)
    assert Path(values["GOOGLE_APPLICATION_CREDENTIALS"]) == VERTEX_KEY_FILE.relative_to(APP_ROOT)
    assert {name: values.get(name) for name in DEV_ENVIRONMENT} == DEV_ENVIRONMENT


def test_the_dev_configuration_uses_the_default_emulator_ports() -> None:
    document = json.loads(DEV_CONFIG.read_text(encoding="utf-8"))
    endpoints = {backend.get("endpoint") or backend.get("endpoint_url") for backend in document["backends"]}
    assert endpoints == {f"http://127.0.0.1:{port}" for port in EMULATOR_PORTS.values()}


@pytest.mark.parametrize("alias", ALIASES)
def test_every_alias_streams_chat_completions(func_start: Hosted, alias: str) -> None:
    with openai.OpenAI(base_url=f"{func_start.url}/api/v1", api_key=DEV_KEY, max_retries=0) as client:
        chunks = client.chat.completions.create(model=alias, messages=[{"role": "user", "content": "Hi"}], stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == DEFAULT_TEXT


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("base", ["/api/v1", "/api/openai/v1", "/api/openai"])
def test_every_alias_streams_responses(func_start: Hosted, alias: str, base: str) -> None:
    with openai.OpenAI(base_url=f"{func_start.url}{base}", api_key=DEV_KEY, max_retries=0) as client:
        events = list(client.responses.create(model=alias, input="Hi", stream=True))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == DEFAULT_TEXT
    assert [event.type for event in events][-1] == "response.completed"


@pytest.mark.parametrize("alias", ALIASES)
def test_every_alias_streams_typed_events(func_start: Hosted, alias: str) -> None:
    request = {"model": alias, "prompt": "Hi"}
    with httpx.stream("POST", f"{func_start.url}/api/chat", json=request, timeout=30) as response:
        body = response.read().decode()
    assert response.status_code == 200, body
    deltas = [json.loads(line[6:])["content"] for line in body.split("\n") if line.startswith('data: {"content"')]
    assert "".join(deltas) == DEFAULT_TEXT
    assert body.endswith('event: done\ndata: {"finish_reason":"stop"}\n\n')


def answers(url: str) -> dict[str, httpx.Response]:
    """One request per registered function that is not a chat stream, keyed by ``describe_routes``' path."""
    auth = {"Authorization": f"Bearer {DEV_KEY}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        return {
            "/api/v1/models": http.get("/api/v1/models", headers=auth),
            "/api/v1/models/{model}": http.get("/api/v1/models/azure", headers=auth),
            "/api/health": http.get("/api/health"),
            "/api/ui": http.get("/api/ui"),
            "/api/ui/{file}": http.get("/api/ui/demo.js"),
            "/api/openapi.json": http.get("/api/openapi.json"),
            "/api/{path:path}": http.options("/api/v1/chat/completions"),
            "/api/auth/browser-token": http.post("/api/auth/browser-token", json={}, headers=auth),
            "/api/v1/streams/{stream}": http.get("/api/v1/streams/" + "s" * 32, headers=auth),
        }


def test_every_registered_function_answers(func_start: Hosted) -> None:
    responses = answers(func_start.url)
    streams = {"/api/v1/chat/completions", "/api/chat", "/api/openai/v1/chat/completions"}
    streams |= {"/api/v1/responses", "/api/openai/v1/responses", "/api/openai/responses"}
    assert func_start.routes == {*responses, *streams, "/api/openai/deployments/{deployment}/chat/completions"}
    assert {path: response.status_code for path, response in responses.items() if response.status_code >= 500} == {}
    assert {model["id"] for model in responses["/api/v1/models"].json()["data"]} == set(ALIASES)
    assert responses["/api/health"].json()["status"] == "ok"
    assert responses["/api/v1/models/{model}"].json()["id"] == "azure"
    assert responses["/api/ui"].status_code == responses["/api/ui/{file}"].status_code == 200

