"""Keyless Vertex end to end: managed identity -> Entra token -> Google STS (-> IAM impersonation) -> Vertex.

google-auth's ``external_account`` credentials run for real, with the
managed identity's token as subject token, against the emulated STS and IAM
Credentials; the Vertex emulator in this mode accepts only tokens those
exchanges issued (its own key-grant endpoint is disabled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.federation import FederationEmulator
from devtools.emulators.google_sts import DEV_POOL_PROVIDER, DEV_SERVICE_ACCOUNT
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.emulators.vertex import VertexEmulator
from tests.builders import (
    AUTH_HEADERS,
    RELAY_TEST_KEY,
    reset_emulator,
    serve_emulator,
    serve_relay,
    vertex_backend,
    vertex_key_file,
)
from tests.federation import burst_then_retries, managed_identity_environment, serve_federation
from tests.polling import wait_for


@pytest.fixture(scope="module")
def federation() -> Iterator[FederationEmulator]:
    yield from serve_federation()


@pytest.fixture(scope="module")
def keyless_vertex_emulator(federation: FederationEmulator) -> Iterator[VertexEmulator]:
    yield from serve_emulator(VertexEmulator(authority=federation.google.authority))


@pytest.fixture
def keyless_vertex(
    keyless_vertex_emulator: VertexEmulator, federation: FederationEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VertexEmulator]:
    managed_identity_environment(monkeypatch, federation)
    yield from reset_emulator(keyless_vertex_emulator)


def keyless_backend(
    vertex: VertexEmulator, federation: FederationEmulator, api: str = "openai", **identity: Any
) -> dict[str, Any]:
    workload_identity = {
        "pool_provider": DEV_POOL_PROVIDER,
        "service_account": DEV_SERVICE_ACCOUNT,
        "token_url": f"{federation.url}/v1/token",
        "iam_credentials_url": federation.url,
        **identity,
    }
    entry = vertex_backend("vertex-keyless", vertex.url, api, workload_identity=workload_identity)
    entry.pop("credentials_setting")
    return entry


def config_for(backend: dict[str, Any]) -> dict[str, Any]:
    return {"backends": [backend], "models": {"vertex": [backend["name"]]}}


def sdk(relay: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0)


def stream_text(client: openai.OpenAI, text: str = DEFAULT_TEXT) -> str:
    messages = [{"role": "user", "content": inline_prompt(text=text, chunks=3)}]
    chunks = client.chat.completions.create(model="vertex", messages=messages, stream=True)  # type: ignore[arg-type]
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def counts(federation: FederationEmulator) -> tuple[int, int]:
    return federation.google.exchanges, federation.google.impersonations


@pytest.mark.parametrize("api", ["openai", "native"])
@pytest.mark.parametrize("service_account", [DEV_SERVICE_ACCOUNT, None], ids=["impersonated", "federated-principal"])
def test_a_stream_through_federated_credentials(
    keyless_vertex: VertexEmulator, federation: FederationEmulator, api: str, service_account: str | None
) -> None:
    before = counts(federation)
    backend = keyless_backend(keyless_vertex, federation, api, service_account=service_account)
    with serve_relay(config_for(backend)) as relay, sdk(relay) as client:
        assert stream_text(client, "hello from a pool") == "hello from a pool"
        assert stream_text(client, "and again") == "and again"
    exchanges, impersonations = (now - then for now, then in zip(counts(federation), before, strict=True))
    assert (exchanges, impersonations) == (1, 1 if service_account else 0)  # cached for both streams
    assert [record.status for record in keyless_vertex.recorder.records] == [200, 200]


def test_the_keyless_emulator_refuses_service_account_keys(keyless_vertex: VertexEmulator) -> None:
    """The check the federated tests rely on: a key file's JWT grant gets no token in keyless mode."""
    backend = vertex_backend("vertex-keyed", keyless_vertex.url)
    with serve_relay(config_for(backend), vertex_key_file(keyless_vertex.url)) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "vertex", "messages": [{"role": "user", "content": "hi"}]},
            headers=AUTH_HEADERS,
            timeout=30,
        )
    assert response.json()["error"]["code"] == "upstream_auth_failed"
    assert keyless_vertex.recorder.records == []


def test_fifty_concurrent_streams_on_expired_credentials_cause_one_exchange(
    keyless_vertex: VertexEmulator, federation: FederationEmulator
) -> None:
    authority = federation.google.authority
    authority.lifetime = 2.0  # the first federated and impersonated tokens expire almost at once
    try:
        with serve_relay(config_for(keyless_backend(keyless_vertex, federation))) as relay:
            with sdk(relay) as client:
                assert stream_text(client) == DEFAULT_TEXT
            assert wait_for(lambda: all(token.expired for token in authority.issued()[-2:]), seconds=10)
            authority.lifetime = 3600.0
            before = counts(federation)
            texts = asyncio.run(concurrent_streams(relay, 50))
    finally:
        authority.lifetime = 3600.0
    assert texts == [DEFAULT_TEXT] * 50
    assert tuple(now - then for now, then in zip(counts(federation), before, strict=True)) == (1, 1)
    assert [record.status for record in keyless_vertex.recorder.records] == [200] * 51  # never sent an expired token


async def concurrent_streams(relay: str, count: int) -> list[str]:
    async with openai.AsyncOpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:

        async def one() -> str:
            messages = [{"role": "user", "content": inline_prompt(chunks=3)}]
            chunks = await client.chat.completions.create(model="vertex", messages=messages, stream=True)  # type: ignore[arg-type]
            return "".join([chunk.choices[0].delta.content or "" async for chunk in chunks if chunk.choices])

        return list(await asyncio.gather(*(one() for _ in range(count))))


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"audience": "api://some-other-audience"}, (1, 0)),
        ({"pool_provider": DEV_POOL_PROVIDER.replace("providers/entra", "providers/unknown")}, (1, 0)),
        ({"service_account": "not-bound@demo-project.iam.gserviceaccount.com"}, (1, 1)),
    ],
    ids=["wrong-audience", "unknown-provider", "unbound-service-account"],
)
def test_a_refused_exchange_is_a_clean_503_and_is_not_repeated(
    keyless_vertex: VertexEmulator, federation: FederationEmulator, identity: dict[str, str], expected: tuple[int, int]
) -> None:
    before = counts(federation)
    backend = keyless_backend(keyless_vertex, federation, **identity)
    with serve_relay(config_for(backend)) as relay:
        answers = burst_then_retries(relay, "vertex")
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "upstream_auth_failed"
        assert "vertex-keyless" in answer.json()["error"]["message"]
    assert tuple(now - then for now, then in zip(counts(federation), before, strict=True)) == expected
    assert keyless_vertex.recorder.records == []
