"""Entra ID bearer tokens: RS256 signatures against a JWKS served on 127.0.0.1, plus iss, aud, exp and grants."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import jwt
import openai
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth.jwks import KeysUnavailable
from shared.auth.settings import EntraSettings
from shared.errors import Forbidden, Unauthorized
from tests.relay_configs import CHAT_URL, bearer, chat_body, error_of
from tests.shared.auth.entra_signer import (
    AUDIENCE,
    ISSUER,
    TENANT,
    JwksServer,
    SigningKey,
    Verifier,
    claims,
    token,
)


@pytest.mark.anyio
async def test_a_valid_token_names_tenant_and_object(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(models=["azure"], profile="staff")
    identity = await check.verify(token(signing_keys[0]))
    assert identity.subject == f"entra:{TENANT}/user-object-id"
    assert (identity.method, identity.models, identity.profile) == ("entra", frozenset({"azure"}), "staff")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"aud": "api://someone-else"}, "audience"),
        ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, "issuer"),
        ({"exp": None}, "required claim"),
        ({"aud": None}, "required claim"),
    ],
)
async def test_wrong_claims_are_refused(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey], overrides: dict[str, Any], reason: str
) -> None:
    check = verifier()
    with pytest.raises(Unauthorized, match=reason):
        await check.verify(token(signing_keys[0], **overrides))


@pytest.mark.anyio
async def test_small_clock_skew_is_tolerated(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(clock_skew_seconds=60)
    await check.verify(token(signing_keys[0], exp=int(time.time()) - 30))
    with pytest.raises(Unauthorized, match="expired"):
        await check.verify(token(signing_keys[0], exp=int(time.time()) - 90))


@pytest.mark.anyio
async def test_v1_issuer_of_the_tenant_is_accepted_by_default(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier()
    await check.verify(token(signing_keys[0], iss=f"https://sts.windows.net/{TENANT}/"))


@pytest.mark.anyio
async def test_a_forged_signature_is_refused(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier()
    forged = token(signing_keys[2], kid="key-1")
    with pytest.raises(Unauthorized, match="signature"):
        await check.verify(forged)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bad",
    [
        "eyJhbGciOiJSUzI1NiJ9.not-base64!.x",
        jwt.encode(claims(), "a-shared-secret-of-32-characters!", algorithm="HS256", headers={"kid": "key-1"}),
        jwt.encode(claims(), None, algorithm="none", headers={"kid": "key-1"}),
        jwt.encode(claims(), rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"),
    ],
    ids=["malformed", "hs256", "alg-none", "no-kid"],
)
async def test_malformed_and_wrong_algorithm_tokens_are_refused(verifier: Verifier, jwks: JwksServer, bad: str) -> None:
    check = verifier()
    with pytest.raises(Unauthorized):
        await check.verify(bad)


@pytest.mark.anyio
async def test_keys_are_cached(verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]) -> None:
    check = verifier()
    for _ in range(5):
        await check.verify(token(signing_keys[0]))
    assert jwks.fetches == 1


@pytest.mark.anyio
async def test_an_unknown_kid_refetches_once_so_rotation_works(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(jwks_refetch_seconds=0)
    await check.verify(token(signing_keys[0]))
    jwks.keys = [signing_keys[0], signing_keys[1]]
    await check.verify(token(signing_keys[1]))
    assert jwks.fetches == 2


@pytest.mark.anyio
async def test_unknown_kids_cannot_force_a_fetch_per_request(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(jwks_refetch_seconds=60)
    await check.verify(token(signing_keys[0]))
    for attempt in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await check.verify(token(signing_keys[2], kid=f"invented-{attempt}"))
    assert jwks.fetches == 1


@pytest.mark.anyio
async def test_concurrent_first_requests_share_one_fetch(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    jwks.delay = 0.2
    check = verifier()
    await asyncio.gather(*(check.verify(token(signing_keys[0])) for _ in range(10)))
    assert jwks.fetches == 1


@pytest.mark.anyio
async def test_fetching_keys_does_not_block_the_event_loop(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    jwks.delay = 0.5
    check = verifier()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1

    await asyncio.gather(check.verify(token(signing_keys[0])), tick())
    assert ticks == 20


@pytest.mark.anyio
async def test_unreachable_keys_are_a_503_not_a_401(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    jwks.status = 500
    check = verifier()
    with pytest.raises(KeysUnavailable) as caught:
        await check.verify(token(signing_keys[0]))
    assert caught.value.status == 503


BROKEN_KEY_SETS = {
    "list": b"[]",
    "string": b'"keys"',
    "null": b"null",
    "keys-not-a-list": b'{"keys": 5}',
    "not-json": b"<html>",
    "deep-nesting": b'{"keys": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.anyio
@pytest.mark.parametrize("body", list(BROKEN_KEY_SETS.values()), ids=list(BROKEN_KEY_SETS))
async def test_a_malformed_key_set_is_a_503_not_a_crash(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey], body: bytes
) -> None:
    jwks.body = body
    with pytest.raises(KeysUnavailable):
        await verifier().verify(token(signing_keys[0]))


@pytest.mark.anyio
async def test_only_rsa_signing_keys_with_string_ids_are_kept(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    shared_secret = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "kid": "key-1"}
    numbered = {**signing_keys[1].jwk(), "kid": 2}
    jwks.body = json.dumps({"keys": [shared_secret, numbered]}).encode()
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier().verify(token(signing_keys[0]))


@pytest.mark.anyio
async def test_cached_keys_survive_a_failed_refresh(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey]
) -> None:
    check = verifier(jwks_refetch_seconds=0)
    await check.verify(token(signing_keys[0]))
    jwks.status = 500
    with pytest.raises(Unauthorized, match="unknown key"):
        await check.verify(token(signing_keys[1]))
    await check.verify(token(signing_keys[0]))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("granted", "admitted"),
    [
        ({"roles": ["Relay.Use"]}, True),
        ({"scp": "openid Relay.Chat"}, True),
        ({"roles": ["Other"], "scp": "openid"}, False),
        ({}, False),
    ],
)
async def test_required_roles_or_scopes(
    verifier: Verifier, jwks: JwksServer, signing_keys: list[SigningKey], granted: dict[str, Any], admitted: bool
) -> None:
    check = verifier(required_roles=["Relay.Use"], required_scopes=["Relay.Chat"])
    if admitted:
        await check.verify(token(signing_keys[0], **granted))
    else:
        with pytest.raises(Forbidden, match="role or scope"):
            await check.verify(token(signing_keys[0], **granted))


def test_default_issuers_and_key_url_are_the_tenants() -> None:
    entra = EntraSettings(tenant_id=TENANT, audiences=[AUDIENCE])
    assert entra.issuer_values() == [ISSUER, f"https://sts.windows.net/{TENANT}/"]
    assert entra.keys_url() == f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"


def test_an_entra_token_streams_through_the_relay(entra_relay: str, azure: Any, signing_keys: list[SigningKey]) -> None:
    with openai.OpenAI(base_url=f"{entra_relay}/api/v1", api_key=token(signing_keys[0]), max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="azure", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"exp": int(time.time()) - 3600}, "expired"), ({"aud": "api://someone-else"}, "audience")],
)
def test_the_relay_answers_bad_tokens_with_401(
    entra_relay: str, signing_keys: list[SigningKey], overrides: dict[str, Any], reason: str
) -> None:
    response = httpx.post(
        f"{entra_relay}{CHAT_URL}", json=chat_body(), headers=bearer(token(signing_keys[0], **overrides))
    )
    assert reason in error_of(response, 401)["message"]


def test_entra_grants_limit_aliases(entra_relay: str, signing_keys: list[SigningKey]) -> None:
    response = httpx.post(
        f"{entra_relay}{CHAT_URL}", json=chat_body(model="other"), headers=bearer(token(signing_keys[0]))
    )
    assert error_of(response, 403)["code"] == "model_not_allowed"
