"""The keyless credential modes' configuration: what they need, what they exclude, and no secret anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.config import load_config, parse_config
from shared.errors import ConfigError
from shared.providers.bedrock.settings import BedrockSettings
from shared.providers.vertex.settings import VertexSettings

ROLE = "arn:aws:iam::111122223333:role/relay-bedrock"
PROVIDER = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/relay/providers/entra"


def bedrock(**fields: Any) -> dict[str, Any]:
    return {"name": "b", "provider": "bedrock", "model_id": "anthropic.claude-3-haiku", "region": "us-east-1", **fields}


def vertex(**fields: Any) -> dict[str, Any]:
    return {"name": "b", "provider": "vertex", "project": "p", "location": "us-central1", "model": "gemini", **fields}


def problems(backend: dict[str, Any]) -> dict[str, str]:
    document = {"backends": [backend], "models": {"m": ["b"]}}
    with pytest.raises(ConfigError) as caught:
        load_config({"RELAY_CONFIG": json.dumps(document), "K": "x", "S": "y"})
    return dict(caught.value.problems)


def test_web_identity_defaults() -> None:
    backend = parse_config({"backends": [bedrock(web_identity={"role_arn": ROLE})], "models": {"m": ["b"]}})
    settings = backend.backends[0]
    assert isinstance(settings, BedrockSettings) and settings.web_identity is not None
    identity = settings.web_identity
    assert (identity.audience, identity.session_name, identity.sts_endpoint_url) == (
        "api://AzureADTokenExchange",
        "azure-llm-relay",
        None,
    )


def test_workload_identity_defaults_and_impersonation_url() -> None:
    identity = {"pool_provider": PROVIDER, "service_account": "sa@p.iam.gserviceaccount.com"}
    settings = parse_config({"backends": [vertex(workload_identity=identity)], "models": {"m": ["b"]}}).backends[0]
    assert isinstance(settings, VertexSettings) and settings.workload_identity is not None
    assert settings.workload_identity.token_url == "https://sts.googleapis.com/v1/token"
    assert settings.workload_identity.impersonation_url == (
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com"
        ":generateAccessToken"
    )


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        (bedrock(web_identity={"role_arn": "not-an-arn"}), "backends[0].web_identity.role_arn"),
        (bedrock(web_identity={}), "backends[0].web_identity.role_arn"),
        (bedrock(web_identity={"role_arn": ROLE, "secret": "x"}), "backends[0].web_identity.secret"),
        (
            vertex(workload_identity={"pool_provider": "projects/1/pools/x"}),
            "backends[0].workload_identity.pool_provider",
        ),
        (
            vertex(workload_identity={"pool_provider": PROVIDER, "service_account": "me@gmail.com"}),
            "backends[0].workload_identity.service_account",
        ),
    ],
)
def test_malformed_federation_settings_name_the_field(backend: dict[str, Any], field: str) -> None:
    assert field in problems(backend)


@pytest.mark.parametrize(
    "backend",
    [
        bedrock(web_identity={"role_arn": ROLE}, access_key_id_setting="K", secret_access_key_setting="S"),
        vertex(workload_identity={"pool_provider": PROVIDER}, credentials_setting="K"),
    ],
)
def test_a_keyless_mode_excludes_the_key_settings(backend: dict[str, Any]) -> None:
    [(field, message)] = problems(backend).items()
    assert field == "backends[0]"
    assert "replaces" in message
