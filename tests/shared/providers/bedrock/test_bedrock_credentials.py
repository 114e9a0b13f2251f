"""Where a Bedrock backend's credentials come from when the config names none: boto3's default chain.

A Bedrock API key in AWS_BEARER_TOKEN_BEDROCK (sent only over TLS, so the
emulator is served over HTTPS too), and nothing at all, which is a 503 before
any request goes upstream.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS, BEDROCK_MODEL, serve_relay
from tests.devtools.emulators.bedrock.tls_certificate import self_signed_certificate
from tests.polling import wait_for
from tests.shared.providers.bedrock.bedrock_calls import user


@pytest.fixture
def default_chain_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    """An environment where boto3's default chain finds nothing unless a test adds it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture(scope="module")
def tls_emulator_url(
    bedrock_emulator: BedrockEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The session's emulator behind TLS too: boto3 sends a Bedrock API key only over HTTPS."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    config = uvicorn.Config(
        bedrock_emulator,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, seconds=20)
    yield f"https://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", cert
    server.should_exit = True
    thread.join(timeout=10)


def test_bedrock_api_key_from_the_environment(
    tls_emulator_url: tuple[str, str], bedrock: BedrockEmulator, default_chain_only: pytest.MonkeyPatch
) -> None:
    url, ca_bundle = tls_emulator_url
    token = "ABSK-relay-test-token-0123456789"
    default_chain_only.setenv("AWS_BEARER_TOKEN_BEDROCK", token)
    backend = {"name": "key", "provider": "bedrock", "model_id": BEDROCK_MODEL, "region": "us-east-1"}
    config = {"backends": [{**backend, "endpoint_url": url}], "models": {"key": ["key"]}}
    with serve_relay(config, {"AWS_CA_BUNDLE": ca_bundle}) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "key", "messages": user(inline_prompt(text="signed with a key"))},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.json()["choices"][0]["message"]["content"] == "signed with a key"
    assert bedrock.recorder.records[-1].auth == "bearer"
    assert token not in json.dumps(bedrock.recorder.as_dict(), ensure_ascii=False)


def test_no_credentials_anywhere_is_503_auth_failed(
    bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator, default_chain_only: pytest.MonkeyPatch
) -> None:
    backend = {"name": "bare", "provider": "bedrock", "model_id": BEDROCK_MODEL, "region": "us-east-1"}
    config = {"backends": [{**backend, "endpoint_url": bedrock_emulator.url}], "models": {"bare": ["bare"]}}  # type: ignore[attr-defined]
    with serve_relay(config) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "bare", "messages": user("hi")},
            timeout=30,
            headers=AUTH_HEADERS,
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_auth_failed"
    assert bedrock.recorder.records == []
