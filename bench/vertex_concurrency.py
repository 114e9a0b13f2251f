"""Hundreds of concurrent Vertex streams through one relay process, on each of Vertex's two APIs.

The same load and client as ``bedrock_concurrency`` (:mod:`.stream_load`):
every stream is ``chunks`` content deltas ``delay_ms`` apart. The emulator
runs with the real OAuth2 flow (the relay signs a JWT with a key the emulator
trusts). Each API gets a relay process of its own, so its CPU and peak memory
are its own: ``api: openai`` (the openai SDK against the OpenAI-compatible
endpoint) and ``api: native`` (Gemini's ``streamGenerateContent?alt=sse``).

A first row sends the load straight to the emulator's native SSE endpoint:
the floor that the emulator, this client and the machine set on their own.

``python -m bench.vertex_concurrency --concurrency 200`` runs other shapes;
``--skip-direct`` leaves out the baseline.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import google.auth.transport.requests
from google.oauth2 import service_account

from devtools.emulators.scenario import inline_prompt

from . import concurrency
from .concurrency import DEFAULT_SHAPE, Shape
from .processes import started_server
from .report import Row
from .stream_load import Target

BENCH = "vertex_concurrency"
APIS = ("openai", "native")
CREDENTIALS_SETTING = "BENCH_VERTEX_CREDENTIALS"
MODEL = "gemini-2.0-flash-001"
LOCATION_PATH = "/v1/projects/bench-project/locations/us-central1"


def relay_config(emulator_url: str, api: str) -> dict[str, object]:
    """One backend on the emulator speaking ``api``; the alias is the API's name."""
    backend = {
        "name": f"vertex-{api}",
        "provider": "vertex",
        "api": api,
        "project": "bench-project",
        "location": "us-central1",
        "model": MODEL,
        "endpoint_url": emulator_url,
        "credentials_setting": CREDENTIALS_SETTING,
    }
    return {"backends": [backend], "models": {api: [f"vertex-{api}"]}}


def access_token(key_file: Path) -> str:
    """A token for the direct case, fetched with google-auth like the relay does."""
    info = json.loads(key_file.read_text(encoding="utf-8"))
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes)
    credentials.refresh(google.auth.transport.requests.Request())
    return str(credentials.token)


def direct_target(emulator_url: str, token: str, chunks: int, delay_ms: float) -> Target:
    """``streamGenerateContent?alt=sse`` straight to the emulator; one part per chunk, no ``[DONE]``."""
    prompt = inline_prompt(chunks=chunks, delay_ms=delay_ms)
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    path = f"{LOCATION_PATH}/publishers/google/models/{MODEL}:streamGenerateContent?alt=sse"
    return Target.post(
        emulator_url,
        path,
        body,
        {"Authorization": f"Bearer {token}"},
        content_marker=b'"parts":[{"text":"',
        done_marker=b'"finishReason"',
        error_marker=b'data: {"error"',
    )


def direct_openai_target(emulator_url: str, token: str, chunks: int, delay_ms: float) -> Target:
    """The OpenAI-compatible endpoint's chat completion stream straight to the upstream, as ``api: openai`` reads it."""
    body = {
        "model": f"google/{MODEL}",
        "stream": True,
        "messages": [{"role": "user", "content": inline_prompt(chunks=chunks, delay_ms=delay_ms)}],
    }
    return Target.post(
        emulator_url,
        f"{LOCATION_PATH}/endpoints/openapi/chat/completions",
        body,
        {"Authorization": f"Bearer {token}"},
        content_marker=b'"delta":{"content":"',
        done_marker=b"data: [DONE]",
        error_marker=b'data: {"error"',
    )


def run(shape: Shape = DEFAULT_SHAPE, direct: bool = True) -> list[Row]:
    """Measure ``shape`` through a relay on each API, and optionally straight to the emulator."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "vertex-key.json"
        emulator_args = ["--write-service-account", str(key_file), "--log-level", "warning"]
        with started_server("devtools.emulators.vertex", emulator_args) as emulator:
            if direct:
                target = direct_target(emulator.url, access_token(key_file), shape.chunks, shape.delay_ms)
                case = f"direct to emulator (native SSE), {shape}"
                rows.append(concurrency.direct_row(BENCH, case, target, shape, emulator))
            settings = {CREDENTIALS_SETTING: key_file.read_text(encoding="utf-8")}
            for api in APIS:
                config, case = relay_config(emulator.url, api), f"through relay, api={api}, {shape}"
                rows += concurrency.through_relay(BENCH, case, emulator, config, settings, api, shape)
    return rows


if __name__ == "__main__":
    concurrency.main(__doc__.splitlines()[0], run)
