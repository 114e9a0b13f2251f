"""Browser tokens: minted by an authenticated caller or the CLI, verified by signature alone, rotatable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from devtools.threaded_server import ThreadedServer
from shared.auth.browser_tokens import BrowserTokens
from shared.auth.cli import main as cli
from shared.auth.identity import Identity
from shared.auth.minting import MintRequest, grant
from shared.errors import Forbidden, InvalidRequest, Unauthorized
from tests.builders import RELAY_TEST_KEY
from tests.relay_configs import CHAT_URL, bearer, chat_body, chat_config, error_of, relay_key
from tests.secret_guard import register_secret

SECRET = register_secret("browser-token-secret-0123456789abcdef-current", "token secret")
OLD_SECRET = register_secret("browser-token-secret-0123456789abcdef-previous", "previous token secret")
SERVER_KEY = register_secret("rk-web-backend-5e4d3c2b1a09", "web backend key")
NOW = 1_700_000_000.0


def tokens(secret: str = SECRET, previous: str | None = None, now: float = NOW, ttl: float = 900) -> BrowserTokens:
    return BrowserTokens(secret, previous, max_ttl_seconds=ttl, profile="browser", clock=lambda: now)


def minted(**claims: Any) -> str:
    issuer = tokens()
    fields = {"subject": "kiosk", "models": ["azure"], "max_tokens": 256, "ttl_seconds": 600, **claims}
    return issuer.mint(issuer.claims(**fields))


def test_a_token_grants_exactly_its_claims() -> None:
    identity = tokens(now=NOW + 300).verify(minted())
    assert identity == Identity(
        subject="kiosk",
        method="browser_token",
        models=frozenset({"azure"}),
        profile="browser",
        max_tokens=256,
        can_mint=False,
    )


def test_expired_tokens_are_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        tokens(now=NOW + 700).verify(minted())


def test_tampered_claims_are_refused() -> None:
    prefix, payload, signature = minted().split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=="))
    document["max_tokens"] = 100_000
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="signature"):
        tokens().verify(f"{prefix}.{forged}.{signature}")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized, match="signature"):
        tokens(secret="another-secret-of-at-least-thirty-two-chars").verify(minted())


def test_rotation_accepts_the_previous_secret_until_it_is_dropped() -> None:
    issued_before = minted()
    rotated = tokens(secret="the-new-secret-of-at-least-thirty-two-chars!", previous=SECRET)
    assert rotated.verify(issued_before).subject == "kiosk"
    assert rotated.verify(rotated.mint(rotated.claims("kiosk", ["azure"], 256, 600))).subject == "kiosk"
    with pytest.raises(Unauthorized):
        tokens(secret="the-new-secret-of-at-least-thirty-two-chars!").verify(issued_before)


def test_lifetimes_over_the_maximum_are_refused() -> None:
    with pytest.raises(Unauthorized, match="lifetime"):
        tokens(ttl=300).verify(minted(ttl_seconds=600))


@pytest.mark.parametrize(
    "bad", ["rbt1.", "rbt1.abc", "rbt2.abc.def", "rbt1.abc.!!!", "rbt1.e30.sig", "not-a-token", "rbt1..x"]
)
def test_malformed_tokens_are_refused(bad: str) -> None:
    with pytest.raises(Unauthorized):
        tokens().verify(bad)


def test_well_signed_but_incomplete_claims_are_refused() -> None:
    issuer = tokens()
    body = base64.urlsafe_b64encode(b'{"sub": "x"}').rstrip(b"=").decode()
    signed = f"rbt1.{body}"
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).digest())
    with pytest.raises(Unauthorized, match="claims"):
        issuer.verify(f"{signed}.{signature.rstrip(b'=').decode()}")


def signed_with(payload: bytes, secret: str = SECRET) -> str:
    """A token over arbitrary claim bytes with a valid signature: only the key holder could send it."""
    signed = "rbt1." + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())
    return f"{signed}.{signature.rstrip(b'=').decode()}"


def claim_bytes(**overrides: Any) -> bytes:
    document = {"sub": "kiosk", "models": ["azure"], "max_tokens": 256, "iat": int(NOW), "exp": int(NOW) + 600}
    text = json.dumps({**document, **overrides})
    return text.encode()


def test_the_signing_helper_makes_tokens_the_relay_accepts() -> None:
    assert tokens().verify(signed_with(claim_bytes())).max_tokens == 256


WRONG_CLAIMS = {
    "max-tokens-overflow": claim_bytes(max_tokens="OVERFLOW").replace(b'"OVERFLOW"', b"1e400"),
    "exp-overflow": claim_bytes(exp="OVERFLOW").replace(b'"OVERFLOW"', b"1e400"),
    "iat-nan": claim_bytes(iat="NAN").replace(b'"NAN"', b"NaN"),
    "iat-minus-infinity": claim_bytes(iat="NAN").replace(b'"NAN"', b"-Infinity"),
    "max-tokens-huge-int": claim_bytes(max_tokens="HUGE").replace(b'"HUGE"', b"9" * 5000),
    "max-tokens-string": claim_bytes(max_tokens="256"),
    "max-tokens-float": claim_bytes(max_tokens=256.5),
    "max-tokens-bool": claim_bytes(max_tokens=True),
    "max-tokens-zero": claim_bytes(max_tokens=0),
    "max-tokens-negative": claim_bytes(max_tokens=-1),
    "sub-int": claim_bytes(sub=5),
    "sub-empty": claim_bytes(sub=""),
    "sub-object": claim_bytes(sub={"id": "kiosk"}),
    "models-string": claim_bytes(models="azure"),
    "models-ints": claim_bytes(models=[1]),
    "models-empty": claim_bytes(models=[]),
    "exp-string": claim_bytes(exp=str(int(NOW) + 600)),
    "exp-missing": claim_bytes(exp=None).replace(b', "exp": null', b""),
    "document-list": b'["kiosk"]',
    "document-string": b'"kiosk"',
    "deep-nesting": b'{"sub": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "not-utf8": b'{"sub": "\xff\xfe"}',
    "not-json": b"{nope",
}


@pytest.mark.parametrize("payload", list(WRONG_CLAIMS.values()), ids=list(WRONG_CLAIMS))
def test_well_signed_claims_of_any_wrong_type_are_unauthorized(payload: bytes) -> None:
    with pytest.raises(Unauthorized, match="claims"):
        tokens().verify(signed_with(payload))


def with_urlsafe_signature() -> str:
    """A valid token whose signature uses ``-`` or ``_``, so the standard alphabet spells it differently."""
    for attempt in range(200):
        token = minted(subject=f"kiosk-{attempt}")
        if set(token.rsplit(".", 1)[1]) & set("-_"):
            return token
    raise AssertionError("no signature with - or _ in 200 tokens")


def flip_trailing_bits(token: str) -> str:
    """The same signature bytes with the unused low bits of the last character set: decodes the same, not canonical."""
    signed, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    return f"{signed}.{signature[:-1]}{alphabet[last | 0b11]}"


MALLEATED = {
    "padding": lambda token: token + "=",
    "full-padding": lambda token: token + "=" * (-len(token.rsplit(".", 1)[1]) % 4 or 4),
    "standard-alphabet": lambda token: token.replace("-", "+").replace("_", "/"),
    "trailing-bits": flip_trailing_bits,
    "junk-character": lambda token: token[:-2] + "!" + token[-2:],
    "whitespace": lambda token: token[:-2] + "\n" + token[-2:],
    "payload-padding": lambda token: token.replace(".", "=.", 2).replace("rbt1=.", "rbt1.", 1),
}


@pytest.mark.parametrize("malleate", list(MALLEATED.values()), ids=list(MALLEATED))
def test_only_the_canonical_encoding_of_a_valid_token_is_accepted(malleate: Callable[[str], str]) -> None:
    token = with_urlsafe_signature()
    assert tokens().verify(token).subject.startswith("kiosk-")
    variant = malleate(token)
    assert variant != token
    with pytest.raises(Unauthorized):
        tokens().verify(variant)


MINTER = Identity(subject="key:web", method="relay_key", models=frozenset({"azure", "other"}))


@pytest.mark.parametrize(
    ("wanted", "subject", "models", "max_tokens", "ttl"),
    [
        ({}, "key:web", ["azure", "other"], 512, 900),
        ({"models": ["azure"], "max_tokens": 100, "ttl_minutes": 5}, "key:web", ["azure"], 100, 300),
        ({"subject": "user-7"}, "key:web/user-7", ["azure", "other"], 512, 900),
    ],
)
def test_grants_never_exceed_the_minter(
    wanted: dict[str, Any], subject: str, models: list[str], max_tokens: int, ttl: int
) -> None:
    claims = grant(MINTER, MintRequest(**wanted), tokens(), aliases=["azure", "other"], ceiling=512)
    assert (claims.subject, list(claims.models), claims.max_tokens) == (subject, models, max_tokens)
    assert claims.expires_at - claims.issued_at == ttl


@pytest.mark.parametrize(
    ("minter", "wanted", "error", "param"),
    [
        (MINTER, {"models": ["*"]}, Forbidden, "models[0]"),
        (MINTER, {"models": ["azure", "ghost"]}, InvalidRequest, "models[1]"),
        (Identity("key:narrow", "relay_key", frozenset({"azure"})), {"models": ["other"]}, Forbidden, "models[0]"),
        (MINTER, {"max_tokens": 513}, InvalidRequest, "max_tokens"),
        (MINTER, {"ttl_minutes": 16}, InvalidRequest, "ttl_minutes"),
        (Identity("kiosk", "browser_token", can_mint=False), {}, Forbidden, None),
    ],
)
def test_grants_beyond_the_minter_are_refused(
    minter: Identity, wanted: dict[str, Any], error: type[Exception], param: str | None
) -> None:
    with pytest.raises(error) as caught:
        grant(minter, MintRequest(**wanted), tokens(), aliases=["azure", "other"], ceiling=512)
    assert getattr(caught.value, "param", None) == param


def test_an_unrestricted_minter_may_grant_every_alias() -> None:
    unrestricted = Identity(subject="key:all", method="relay_key")
    claims = grant(unrestricted, MintRequest(), tokens(), aliases=["azure"], ceiling=512)
    assert claims.models == ("*",)
    assert tokens().verify(tokens().mint(claims)).models is None


def test_the_cli_mints_a_verifiable_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_TOKEN_SECRET", SECRET)
    out = io.StringIO()
    argv = ["mint-token", "--subject", "kiosk-1", "--models", "azure", "--max-tokens", "64", "--ttl-minutes", "5"]
    assert cli(argv, out=out) == 0
    identity = BrowserTokens(SECRET, max_ttl_seconds=300).verify(out.getvalue().strip())
    assert (identity.subject, identity.max_tokens) == ("kiosk-1", 64)
    monkeypatch.setenv("RELAY_TOKEN_SECRET", "short")
    assert cli(argv, out=out) == 2


@pytest.mark.parametrize("option", [["--max-tokens", "0"], ["--max-tokens", "-5"], ["--ttl-minutes", "0"]])
def test_the_cli_refuses_to_mint_a_token_the_relay_would_refuse(
    monkeypatch: pytest.MonkeyPatch, option: list[str]
) -> None:
    monkeypatch.setenv("RELAY_TOKEN_SECRET", SECRET)
    out = io.StringIO()
    argv = ["mint-token", "--subject", "kiosk-1", "--models", "azure", "--max-tokens", "64", *option]
    assert cli(argv, out=out) == 2
    assert out.getvalue() == ""


def test_the_cli_makes_long_random_secrets() -> None:
    first, second = io.StringIO(), io.StringIO()
    cli(["new-secret"], out=first)
    cli(["new-secret"], out=second)
    assert len(first.getvalue().strip()) >= 32 and first.getvalue() != second.getvalue()


@pytest.fixture
def relay(start_relay: Callable[..., ThreadedServer], azure: Any) -> str:
    auth = {
        "relay_keys": [relay_key("web", SERVER_KEY, ["azure", "other"])],
        "browser_tokens": {
            "secret_setting": "RELAY_TOKEN_SECRET",
            "previous_secret_setting": "RELAY_TOKEN_SECRET_PREVIOUS",
            "max_ttl_minutes": 10,
        },
    }
    policy = {"profiles": {"default": {"max_tokens": 512}}}
    environ = {"RELAY_TOKEN_SECRET": SECRET, "RELAY_TOKEN_SECRET_PREVIOUS": OLD_SECRET}
    return start_relay(chat_config(azure.url, auth=auth, policy=policy), environ).url


def mint(relay: str, credential: str | None = SERVER_KEY, **wanted: Any) -> httpx.Response:
    headers = bearer(credential) if credential else {}
    return httpx.post(f"{relay}/api/auth/browser-token", json=wanted, headers=headers)


def test_a_minted_token_streams_through_the_openai_sdk(relay: str, azure: Any) -> None:
    response = mint(relay, models=["azure"], max_tokens=64, ttl_minutes=2, subject="user-1")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert (document["sub"], document["models"], document["max_tokens"]) == ("key:web/user-1", ["azure"], 64)
    assert document["exp"] - document["iat"] == 120
    with openai.OpenAI(base_url=f"{relay}/api/v1", api_key=document["token"], max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="azure", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_a_token_signed_with_the_previous_secret_still_works(relay: str, azure: Any) -> None:
    old = tokens(secret=OLD_SECRET, now=time.time())
    token = old.mint(old.claims("legacy", ["azure"], 64, 300))
    assert httpx.post(f"{relay}{CHAT_URL}", json=chat_body(), headers=bearer(token)).status_code == 200


def test_a_token_enforces_its_aliases_and_ceiling(relay: str) -> None:
    token = mint(relay, models=["azure"], max_tokens=64).json()["token"]
    other = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(model="other"), headers=bearer(token))
    assert error_of(other, 403)["param"] == "model"
    greedy = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(max_tokens=65), headers=bearer(token))
    assert error_of(greedy, 400)["param"] == "max_tokens"


def test_minting_needs_a_credential_and_a_token_cannot_mint(relay: str) -> None:
    assert error_of(mint(relay, credential=None), 401)["code"] == "invalid_api_key"
    token = mint(relay).json()["token"]
    assert error_of(mint(relay, credential=token), 403)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("wanted", "status", "param"),
    [
        ({"max_tokens": 513}, 400, "max_tokens"),
        ({"ttl_minutes": 11}, 400, "ttl_minutes"),
        ({"scope": "x"}, 400, "scope"),
    ],
)
def test_minting_refuses_more_than_allowed(relay: str, wanted: dict[str, Any], status: int, param: str) -> None:
    assert error_of(mint(relay, **wanted), status)["param"] == param


def test_minting_refuses_a_body_that_is_not_json(relay: str) -> None:
    headers = {"content-type": "application/json", **bearer(SERVER_KEY)}
    response = httpx.post(f"{relay}/api/auth/browser-token", content=b"{nope", headers=headers)
    assert "not valid JSON" in error_of(response, 400)["message"]


def test_minting_is_404_when_browser_tokens_are_off(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    relay = start_relay(chat_config(azure.url)).url
    response = httpx.post(f"{relay}/api/auth/browser-token", json={}, headers=bearer(RELAY_TEST_KEY))
    assert error_of(response, 404)["code"] == "browser_tokens_disabled"
