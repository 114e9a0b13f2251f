"""Federated credentials never reach telemetry: spans and metrics of keyless streams, served and refused, are scanned.

Every token and key the emulated exchanges issue is registered with the
secret guard as it is issued (``tests.federation``), and ``Recorded`` scans
every exported span and metric, so a leak fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.emulators.aws_sts import DEV_ROLE_ARN
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.federation import FederationEmulator
from devtools.emulators.google_sts import DEV_POOL_PROVIDER, DEV_SERVICE_ACCOUNT
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.emulators.vertex import VertexEmulator
from tests.builders import AUTH_HEADERS, BEDROCK_MODEL, serve_emulator
from tests.federation import managed_identity_environment, serve_federation
from tests.shared.telemetry.conftest import Recorded, host_with_telemetry


@pytest.fixture(scope="module")
def federation() -> Iterator[FederationEmulator]:
    yield from serve_federation()


@pytest.fixture(scope="module")
def keyless_upstreams(federation: FederationEmulator) -> Iterator[tuple[BedrockEmulator, VertexEmulator]]:
    for bedrock in serve_emulator(BedrockEmulator(sts=federation.aws)):
        for vertex in serve_emulator(VertexEmulator(authority=federation.google.authority)):
            yield bedrock, vertex


def keyless_config(bedrock: BedrockEmulator, vertex: VertexEmulator, federation: FederationEmulator) -> dict[str, Any]:
    pool = {
        "pool_provider": DEV_POOL_PROVIDER,
        "service_account": DEV_SERVICE_ACCOUNT,
        "token_url": f"{federation.url}/v1/token",
        "iam_credentials_url": federation.url,
    }
    backends = [
        {
            "name": "bedrock-keyless",
            "provider": "bedrock",
            "model_id": BEDROCK_MODEL,
            "region": "us-east-1",
            "endpoint_url": bedrock.url,
            "web_identity": {"role_arn": DEV_ROLE_ARN, "sts_endpoint_url": federation.url},
        },
        {
            "name": "bedrock-untrusted",
            "provider": "bedrock",
            "model_id": BEDROCK_MODEL,
            "region": "us-east-1",
            "endpoint_url": bedrock.url,
            "web_identity": {"role_arn": DEV_ROLE_ARN, "audience": "api://other", "sts_endpoint_url": federation.url},
        },
        {
            "name": "vertex-keyless",
            "provider": "vertex",
            "project": "demo-project",
            "location": "us-central1",
            "model": "gemini-2.0-flash-001",
            "endpoint_url": vertex.url,
            "workload_identity": pool,
        },
    ]
    models = {"bedrock": ["bedrock-keyless"], "untrusted": ["bedrock-untrusted"], "vertex": ["vertex-keyless"]}
    return {"backends": backends, "models": models}


def test_keyless_streams_and_refusals_export_no_credential(
    federation: FederationEmulator,
    keyless_upstreams: tuple[BedrockEmulator, VertexEmulator],
    recorded: Recorded,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    managed_identity_environment(monkeypatch, federation)
    bedrock, vertex = keyless_upstreams
    server = host_with_telemetry(keyless_config(bedrock, vertex, federation), recorded.telemetry, {})
    try:
        with httpx.Client(base_url=server.url, headers=AUTH_HEADERS, timeout=30) as http:
            answers = [
                http.post(
                    "/api/v1/chat/completions",
                    json={"model": alias, "messages": [{"role": "user", "content": inline_prompt(chunks=2)}]},
                )
                for alias in ("bedrock", "vertex", "untrusted")
            ]
    finally:
        server.stop()
    assert [answer.status_code for answer in answers] == [200, 200, 503]
    assert [answer.json()["choices"][0]["message"]["content"] for answer in answers[:2]] == [DEFAULT_TEXT] * 2
    assert len(recorded.server_spans(3)) == 3  # scanned as they are read: a leak fails here
    assert recorded.metrics()  # scanned too
