"""The Vertex emulator's Google OAuth2 side: its token endpoint and the bearer tokens its models demand.

Driven by the real google-auth SDK, so the relay's service-account token flow
is tested against an endpoint that signs, verifies and expires tokens the way
Google's does (``devtools/emulators/google_oauth.py``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest
from cryptography.hazmat.primitives import serialization
from google.auth import crypt, exceptions, jwt
from google.oauth2 import service_account

from devtools.emulators.vertex import VertexEmulator, create_app, make_service_account_info
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import (
    SCOPES,
    chat,
    credentials_for,
    native_body,
    native_url,
    openai_client,
    refreshed,
)

pytestmark = pytest.mark.timeout(30)


# ---------------------------------------------------------------- OAuth2 token endpoint


def test_service_account_refresh_gets_a_token_from_the_emulator() -> None:
    emulator = create_app(token_lifetime=120)
    with ThreadedServer(emulator) as server:
        creds = credentials_for(server.url)
        token = refreshed(creds)
    assert token.startswith("ya29.emu-")
    assert emulator.recorder.token_requests == 1
    [issued] = emulator.issued_tokens()
    assert issued.token == token
    assert issued.client_email == creds.service_account_email
    assert issued.scope == SCOPES[0]
    assert creds.expiry is not None
    remaining = creds.expiry.timestamp() - time.time()
    assert 100 < remaining <= 121


def test_jwt_signed_with_the_wrong_key_is_refused(server: ThreadedServer, emulator: VertexEmulator) -> None:
    genuine = make_service_account_info(token_uri=f"{server.url}/token")
    forger = make_service_account_info(token_uri=f"{server.url}/token")
    forged = {**forger, "client_email": genuine["client_email"]}
    creds = service_account.Credentials.from_service_account_info(forged, scopes=SCOPES)
    with pytest.raises(exceptions.RefreshError) as caught:
        refreshed(creds)
    assert "invalid_grant" in str(caught.value)
    assert "Invalid JWT Signature" in str(caught.value)
    assert all(t.client_email != genuine["client_email"] for t in emulator.issued_tokens())


def test_strict_emulator_refuses_unknown_accounts_and_trusts_registered_ones() -> None:
    emulator = VertexEmulator(strict_accounts=True)
    with ThreadedServer(emulator) as server:
        info = make_service_account_info(token_uri=f"{server.url}/token")
        stranger = {**info, "client_email": "stranger@demo-project.iam.gserviceaccount.com"}
        with pytest.raises(exceptions.RefreshError, match="account not found"):
            refreshed(service_account.Credentials.from_service_account_info(stranger, scopes=SCOPES))
        emulator.register_service_account(stranger)
        assert refreshed(service_account.Credentials.from_service_account_info(stranger, scopes=SCOPES))
    assert emulator.recorder.token_requests == 2


def signed_assertion(info: dict[str, str], **claims: Any) -> str:
    """A JWT grant built by hand with google-auth's own signer."""
    now = int(time.time())
    payload = {"iss": info["client_email"], "aud": info["token_uri"], "iat": now, "exp": now + 3600, "scope": SCOPES[0]}
    payload.update(claims)
    payload = {key: value for key, value in payload.items() if value is not None}
    signer = crypt.RSASigner.from_service_account_info(info)
    return jwt.encode(signer, payload).decode()


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", "Invalid grant_type"),
        ({"assertion": "not-a-jwt"}, "invalid_grant", "three-part"),
        ({"claims": {"aud": "https://example.com/token"}}, "invalid_grant", "audience"),
        ({"claims": {"exp": int(time.time()) + 7200}}, "invalid_grant", "short-lived"),
        ({"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7000}}, "invalid_grant", "short-lived"),
        ({"claims": {"scope": None}}, "invalid_scope", "Invalid OAuth scope"),
    ],
)
def test_token_endpoint_refuses_bad_grants(
    server: ThreadedServer, emulator: VertexEmulator, form: dict[str, Any], error: str, description: str
) -> None:
    info = make_service_account_info(token_uri=f"{server.url}/token")
    data = {
        "grant_type": form.get("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        "assertion": form.get("assertion") or signed_assertion(info, **form.get("claims", {})),
    }
    response = httpx.post(f"{server.url}/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert description in response.json()["error_description"]
    assert emulator.recorder.token_requests == 1
    assert all(t.client_email != info["client_email"] for t in emulator.issued_tokens())


def test_token_endpoint_accepts_its_own_url_as_audience(server: ThreadedServer) -> None:
    info = make_service_account_info(token_uri=f"{server.url}/token")
    grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": signed_assertion(info)}
    response = httpx.post(f"{server.url}/token", data=grant)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_admin_api_hands_out_a_trusted_key_file(server: ThreadedServer, emulator: VertexEmulator) -> None:
    info = httpx.post(f"{server.url}/_emulator/service-account").json()
    assert info["type"] == "service_account"
    assert info["token_uri"] == f"{server.url}/token"
    token = refreshed(service_account.Credentials.from_service_account_info(info, scopes=SCOPES))
    assert emulator.issued_tokens()[-1].token == token


def test_public_keys_given_up_front_are_verified() -> None:
    placeholder = make_service_account_info(token_uri="http://127.0.0.1:1/token")
    private = serialization.load_pem_private_key(placeholder["private_key"].encode(), password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    emulator = VertexEmulator(public_keys={"ops@demo.iam.gserviceaccount.com": public_pem}, strict_accounts=True)
    with ThreadedServer(emulator) as server:
        info = {**placeholder, "client_email": "ops@demo.iam.gserviceaccount.com", "token_uri": f"{server.url}/token"}
        assert refreshed(service_account.Credentials.from_service_account_info(info, scopes=SCOPES))
        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": signed_assertion(info)}
        as_json = httpx.post(f"{server.url}/token", json=grant)
    assert as_json.status_code == 200
    assert emulator.recorder.token_requests == 2


# ---------------------------------------------------------------- bearer-token checks


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "CREDENTIALS_MISSING"),
        ({"Authorization": "Basic abc"}, "CREDENTIALS_MISSING"),
        ({"Authorization": "Bearer ya29.not-issued-here"}, "ACCESS_TOKEN_TYPE_UNSUPPORTED"),
    ],
)
def test_model_endpoints_need_an_issued_token(
    server: ThreadedServer, emulator: VertexEmulator, headers: dict[str, str], reason: str
) -> None:
    response = httpx.post(native_url(server.url), json=native_body("hi"), headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 401
    assert error["status"] == "UNAUTHENTICATED"
    assert error["details"][0]["reason"] == reason
    assert response.headers["www-authenticate"].startswith("Bearer")
    [record] = emulator.recorder.records
    assert (record.status, record.outcome, record.frames_sent) == (401, "unauthenticated", 0)


def test_expired_token_is_refused_and_a_refresh_gets_a_new_one() -> None:
    emulator = create_app(token_lifetime=1.0)
    with ThreadedServer(emulator) as server:
        creds = credentials_for(server.url)
        first = refreshed(creds)
        assert chat(openai_client(server.url, first), "hi").choices[0].message.content
        time.sleep(1.2)
        with pytest.raises(openai.AuthenticationError) as caught:
            chat(openai_client(server.url, first), "hi")
        assert "Request had invalid authentication credentials" in caught.value.message
        assert caught.value.body["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"  # type: ignore[index]
        second = refreshed(creds)
        assert second != first
        assert chat(openai_client(server.url, second), "hi").choices[0].message.content
    assert emulator.recorder.token_requests == 2
    assert [t.expired for t in emulator.issued_tokens()] == [True, False]
    assert [r.status for r in emulator.recorder.records] == [200, 401, 200]


def test_admin_api_lists_and_expires_tokens(server: ThreadedServer, token: str) -> None:
    listed = httpx.get(f"{server.url}/_emulator/tokens").json()["tokens"]
    assert token in [entry["token"] for entry in listed]
    local = create_app()
    with ThreadedServer(local) as other:
        own = refreshed(credentials_for(other.url))
        assert httpx.delete(f"{other.url}/_emulator/tokens").json() == {"expired": 1}
        response = httpx.post(native_url(other.url), json=native_body("hi"), headers={"Authorization": f"Bearer {own}"})
    assert response.status_code == 401
    assert response.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"


def test_accept_any_token_is_a_dev_mode_escape_hatch() -> None:
    emulator = VertexEmulator(accept_any_token=True)
    with ThreadedServer(emulator) as server:
        response = httpx.post(native_url(server.url), json=native_body("hi"), headers={"Authorization": "Bearer x"})
        anonymous = httpx.post(native_url(server.url, "generateContent"), json=native_body("hi"))
    assert response.status_code == 200
    assert anonymous.status_code == 200
    assert emulator.recorder.token_requests == 0
