"""Setting the Azure OpenAI emulator up: scenarios through its admin API, ``create_app`` and the command line.

These are the ways tests and developers choose what the emulator answers, so
each is checked end to end with the real ``openai`` SDK.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import create_app
from devtools.emulators.scenario import Scenario
from devtools.processes import free_port, stop_processes
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import API_VERSION, user
from tests.polling import wait_for

REPO_ROOT = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.timeout(30)


def test_per_deployment_scenario_through_admin_api(client: openai.AzureOpenAI, server: ThreadedServer) -> None:
    posted = httpx.post(f"{server.url}/_emulator/scenarios", json={"key": "alpha", "scenario": {"text": "from alpha"}})
    assert posted.status_code == 200

    alpha = client.chat.completions.create(model="alpha", messages=user("hi")).choices[0].message.content
    beta = client.chat.completions.create(model="beta", messages=user("hi")).choices[0].message.content
    records = httpx.get(f"{server.url}/_emulator/requests").json()["requests"]

    assert alpha == "from alpha"
    assert beta == Scenario().text
    assert [record["key"] for record in records] == ["alpha", "beta"]


def test_create_app_uses_the_default_scenario() -> None:
    app = create_app(Scenario(text="default!"))
    with (
        ThreadedServer(app) as running,
        openai.AzureOpenAI(azure_endpoint=running.url, api_key="any", api_version=API_VERSION) as client,
    ):
        assert client.chat.completions.create(model="d", messages=user("hi")).choices[0].message.content == "default!"


def test_cli_serves_on_the_given_port() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "devtools.emulators.azure_openai",
        "--port",
        str(port),
        "--scenario",
        '{"text": "cli"}',
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = openai.AzureOpenAI(
        azure_endpoint=f"http://127.0.0.1:{port}", api_key="k", api_version=API_VERSION, max_retries=0, timeout=2
    )
    try:

        def answer() -> str | None:
            try:
                return client.chat.completions.create(model="d", messages=user("hi")).choices[0].message.content
            except openai.APIConnectionError:
                return None

        assert wait_for(lambda: answer() == "cli", seconds=15)
    finally:
        client.close()
        stop_processes([process])
