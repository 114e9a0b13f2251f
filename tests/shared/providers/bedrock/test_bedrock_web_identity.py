"""Keyless Bedrock end to end: managed identity -> Entra token -> AWS STS -> SigV4 -> Bedrock, all emulated.

The relay runs the real code paths: ``azure-identity``'s managed-identity
credential against the identity endpoint, boto3's STS client and botocore's
refreshable credentials against the STS emulator, boto3's signer against the
Bedrock emulator, which in this mode accepts only credentials STS issued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.aws_sts import DEV_ROLE_ARN
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.federation import FederationEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from shared.providers.bedrock.settings import BedrockSettings
from shared.providers.bedrock.transport import signing_may_block
from tests.builders import (
    AUTH_HEADERS,
    BEDROCK_ENV,
    BEDROCK_MODEL,
    RELAY_TEST_KEY,
    bedrock_backend,
    reset_emulator,
    serve_emulator,
    serve_relay,
)
from tests.federation import burst_then_retries, managed_identity_environment, serve_federation
from tests.polling import wait_for


@pytest.fixture(scope="module")
def federation() -> Iterator[FederationEmulator]:
    yield from serve_federation()


@pytest.fixture(scope="module")
def keyless_bedrock_emulator(federation: FederationEmulator) -> Iterator[BedrockEmulator]:
    yield from serve_emulator(BedrockEmulator(sts=federation.aws))


@pytest.fixture
def keyless_bedrock(
    keyless_bedrock_emulator: BedrockEmulator, federation: FederationEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BedrockEmulator]:
    managed_identity_environment(monkeypatch, federation)
    federation.aws.lifetime = 3600.0
    yield from reset_emulator(keyless_bedrock_emulator)


def keyless_backend(bedrock: BedrockEmulator, federation: FederationEmulator, **identity: Any) -> dict[str, Any]:
    web_identity = {"role_arn": DEV_ROLE_ARN, "sts_endpoint_url": federation.url, **identity}
    return {
        "name": "bedrock-keyless",
        "provider": "bedrock",
        "model_id": BEDROCK_MODEL,
        "region": "us-east-1",
        "endpoint_url": bedrock.url,
        "web_identity": web_identity,
    }


def config_for(backend: dict[str, Any]) -> dict[str, Any]:
    return {"backends": [backend], "models": {"bedrock": [backend["name"]]}}


def stream_text(client: openai.OpenAI, text: str = DEFAULT_TEXT) -> str:
    messages = [{"role": "user", "content": inline_prompt(text=text, chunks=3)}]
    chunks = client.chat.completions.create(model="bedrock", messages=messages, stream=True)  # type: ignore[arg-type]
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def sdk(relay: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0)


def test_a_stream_through_federated_credentials(
    keyless_bedrock: BedrockEmulator, federation: FederationEmulator
) -> None:
    before = federation.aws.exchanges
    with serve_relay(config_for(keyless_backend(keyless_bedrock, federation))) as relay, sdk(relay) as client:
        assert stream_text(client, "hello from a role") == "hello from a role"
        assert stream_text(client, "and again") == "and again"
    assert federation.aws.exchanges - before == 1  # cached: one exchange for both streams
    assert [(record.auth, record.status) for record in keyless_bedrock.recorder.records] == [("sigv4", 200)] * 2


def test_the_keyless_emulator_refuses_long_lived_keys(keyless_bedrock: BedrockEmulator) -> None:
    """The check the federated tests rely on: a static key pair is not what STS issued."""
    with serve_relay(config_for(bedrock_backend("bedrock-keyless", keyless_bedrock.url)), BEDROCK_ENV) as relay:
        response = httpx.post(
            f"{relay}/api/v1/chat/completions",
            json={"model": "bedrock", "messages": [{"role": "user", "content": "hi"}]},
            headers=AUTH_HEADERS,
            timeout=30,
        )
    assert response.json()["error"]["code"] == "upstream_auth_failed"
    assert [record.status for record in keyless_bedrock.recorder.records] == [403]


def test_fifty_concurrent_streams_on_expired_credentials_cause_one_exchange(
    keyless_bedrock: BedrockEmulator, federation: FederationEmulator
) -> None:
    federation.aws.lifetime = 2.0  # the first credentials expire almost at once
    with serve_relay(config_for(keyless_backend(keyless_bedrock, federation))) as relay:
        with sdk(relay) as client:
            assert stream_text(client) == DEFAULT_TEXT
        first = federation.aws.issued()[-1]
        assert wait_for(lambda: federation.aws.expired(first.access_key_id), seconds=10)
        federation.aws.lifetime = 3600.0
        before = federation.aws.exchanges
        texts = asyncio.run(concurrent_streams(relay, 50))
    assert texts == [DEFAULT_TEXT] * 50
    assert federation.aws.exchanges - before == 1
    assert [record.status for record in keyless_bedrock.recorder.records] == [200] * 51  # none signed with stale keys


async def concurrent_streams(relay: str, count: int) -> list[str]:
    async with openai.AsyncOpenAI(base_url=f"{relay}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:

        async def one() -> str:
            messages = [{"role": "user", "content": inline_prompt(chunks=3)}]
            chunks = await client.chat.completions.create(model="bedrock", messages=messages, stream=True)  # type: ignore[arg-type]
            return "".join([chunk.choices[0].delta.content or "" async for chunk in chunks if chunk.choices])

        return list(await asyncio.gather(*(one() for _ in range(count))))


@pytest.mark.parametrize(
    "identity",
    [
        {"role_arn": "arn:aws:iam::111122223333:role/not-trusting-the-tenant"},
        {"audience": "api://some-other-audience"},
    ],
    ids=["role-without-trust", "wrong-audience"],
)
def test_a_refused_exchange_is_a_clean_503_and_is_not_repeated(
    keyless_bedrock: BedrockEmulator, federation: FederationEmulator, identity: dict[str, str]
) -> None:
    before = federation.aws.exchanges
    backend = keyless_backend(keyless_bedrock, federation, **identity)
    with serve_relay(config_for(backend)) as relay:
        answers = burst_then_retries(relay, "bedrock")
    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"]["code"] == "upstream_auth_failed"
        assert "bedrock-keyless" in answer.json()["error"]["message"]
    assert federation.aws.exchanges - before == 1  # one exchange for the burst and the retries
    assert keyless_bedrock.recorder.records == []  # nothing reached Bedrock


def test_federated_signing_is_kept_off_the_event_loop_even_with_keys_in_the_environment() -> None:
    """A refresh calls the identity endpoint and STS; environment keys (make dev sets some) must not move it on-loop."""
    settings = BedrockSettings.model_validate(
        {**keyless_backend_entry("http://emulator.invalid"), "web_identity": {"role_arn": DEV_ROLE_ARN}}
    )
    environ = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret"}
    assert signing_may_block(settings, environ)


def keyless_backend_entry(url: str) -> dict[str, Any]:
    return {"name": "b", "provider": "bedrock", "model_id": BEDROCK_MODEL, "region": "us-east-1", "endpoint_url": url}


@pytest.mark.parametrize(
    ("environ", "identity", "expected"),
    [
        ({"AZURE_CLIENT_ID": "template-identity-client-id"}, {}, "template-identity-client-id"),
        ({"AZURE_CLIENT_ID": "template-identity-client-id"}, {"managed_identity_client_id": "other"}, "other"),
        ({}, {}, None),
    ],
    ids=["azure-client-id", "configured-wins", "system-assigned"],
)
def test_the_user_assigned_identity_is_the_one_asked_for_a_token(
    keyless_bedrock: BedrockEmulator,
    federation: FederationEmulator,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    identity: dict[str, str],
    expected: str | None,
) -> None:
    """The template gives the app a user-assigned identity and names it in AZURE_CLIENT_ID, as DefaultAzureCredential
    expects; ManagedIdentityCredential does not read it, so the relay passes it on."""
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    backend = keyless_backend(keyless_bedrock, federation, **identity)
    with serve_relay(config_for(backend), environ) as relay, sdk(relay) as client:
        assert stream_text(client) == DEFAULT_TEXT
    assert federation.identity.client_ids[-1] == expected
