"""Where Vertex credentials come from: an app setting, GOOGLE_APPLICATION_CREDENTIALS, or ADC.

Every mode ends in a real JWT grant at the emulator's token endpoint; what a
misconfigured credential does (start-up error or a 503 that names no secret)
is pinned down too.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import google.auth
import openai
import pytest
from google.auth import aws, identity_pool, pluggable
from google.oauth2 import service_account

from devtools.emulators.scenario import DEFAULT_TEXT
from devtools.emulators.vertex import VertexEmulator, make_service_account_info
from shared.config import load_config
from shared.errors import ConfigError
from shared.providers.vertex.credentials import SCOPES, credentials_from_info
from tests.builders import VERTEX_CREDENTIALS_SETTING, serve_relay, vertex_backend, vertex_key_file

STS = "https://sts.googleapis.com/v1/token"
AUDIENCE = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/azure"


def config(emulator_url: str, **overrides: Any) -> dict[str, Any]:
    return {"backends": [vertex_backend("vertex", emulator_url, **overrides)], "models": {"vertex": ["vertex"]}}


def stream(relay_url: str) -> str:
    with openai.OpenAI(base_url=f"{relay_url}/api/v1", api_key="relay-client-key", max_retries=0) as client:
        chunks = client.chat.completions.create(
            model="vertex", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- the three modes


def test_service_account_json_in_a_named_app_setting(vertex: VertexEmulator) -> None:
    url = vertex.url  # type: ignore[attr-defined]
    with serve_relay(config(url), vertex_key_file(url)) as relay:
        assert stream(relay) == DEFAULT_TEXT
    assert vertex.recorder.token_requests == 1


def test_google_application_credentials_file(vertex: VertexEmulator, tmp_path: Path) -> None:
    url = vertex.url  # type: ignore[attr-defined]
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(make_service_account_info(token_uri=f"{url}/token")))
    backend = config(url, credentials_setting=None)
    with serve_relay(backend, {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}) as relay:
        assert stream(relay) == DEFAULT_TEXT
    assert vertex.recorder.token_requests == 1


def test_application_default_credentials(vertex: VertexEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a setting or a key file the relay asks google.auth.default, with the cloud-platform scope."""
    url = vertex.url  # type: ignore[attr-defined]
    info = make_service_account_info(token_uri=f"{url}/token")
    asked: list[Any] = []

    def adc(scopes: Any = None, **kwargs: Any) -> tuple[Any, str]:
        asked.append(scopes)
        return service_account.Credentials.from_service_account_info(info, scopes=scopes), "demo-project"

    monkeypatch.setattr(google.auth, "default", adc)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with serve_relay(config(url, credentials_setting=None)) as relay:
        assert asked == []  # resolved lazily, never at start-up
        assert stream(relay) == DEFAULT_TEXT
    assert asked == [SCOPES]
    assert vertex.issued_tokens()[-1].client_email == info["client_email"]


# ---------------------------------------------------------------- workload identity federation


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"file": "/var/run/secrets/token"}, identity_pool.Credentials),
        (
            {"url": "http://169.254.169.254/metadata/identity/oauth2/token", "headers": {"Metadata": "True"}},
            identity_pool.Credentials,
        ),
        ({"executable": {"command": "/usr/bin/get-token", "timeout_millis": 5000}}, pluggable.Credentials),
    ],
)
def test_workload_identity_federation_configs_load_without_network(source: dict[str, Any], expected: type) -> None:
    info = {
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": STS,
        "credential_source": source,
    }
    credentials = credentials_from_info(info)
    assert isinstance(credentials, expected)
    assert tuple(credentials.scopes) == SCOPES


def test_aws_workload_identity_federation_loads() -> None:
    info = {
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "token_url": STS,
        "credential_source": {
            "environment_id": "aws1",
            "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
            "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
            "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
        },
    }
    assert isinstance(credentials_from_info(info), aws.Credentials)


# ---------------------------------------------------------------- misconfiguration


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is not set"),
        ("{not json", "does not hold valid JSON"),
        (json.dumps({"type": "authorized_user"}), "type is one of service_account, external_account"),
        (json.dumps({"type": "service_account", "client_email": "x@y"}), "cannot load"),
    ],
)
def test_a_bad_credentials_setting_stops_the_app_at_start(value: str | None, problem: str) -> None:
    environ = {"RELAY_CONFIG": json.dumps(config("http://127.0.0.1:1"))}
    if value is not None:
        environ[VERTEX_CREDENTIALS_SETTING] = value
    with pytest.raises(ConfigError) as caught:
        load_config(environ)
    [(field, message)] = caught.value.problems
    assert field == "backends[0].credentials_setting"
    assert VERTEX_CREDENTIALS_SETTING in message and problem in message


@pytest.mark.parametrize("fault", ["unreachable token endpoint", "key the emulator does not trust"])
def test_a_token_that_cannot_be_had_is_a_503_naming_no_secret(vertex: VertexEmulator, fault: str) -> None:
    url = vertex.url  # type: ignore[attr-defined]
    if fault == "unreachable token endpoint":
        info = make_service_account_info(token_uri=f"http://127.0.0.1:{closed_port()}/token")
    else:
        genuine = make_service_account_info(token_uri=f"{url}/token")
        info = {**make_service_account_info(token_uri=f"{url}/token"), "client_email": genuine["client_email"]}
    settings = {VERTEX_CREDENTIALS_SETTING: json.dumps(info)}
    with serve_relay(config(url), settings) as relay, pytest.raises(openai.APIStatusError) as caught:
        stream(relay)
    assert (caught.value.status_code, caught.value.body["code"]) == (503, "upstream_auth_failed")
    assert "PRIVATE KEY" not in caught.value.response.text
    assert vertex.recorder.records == []  # no model call without a token
