"""Bedrock backend settings: validated at start-up, credentials only ever by setting name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.config import load_config, parse_config
from shared.errors import ConfigError
from shared.providers.bedrock.settings import BedrockSettings, explicit_credentials


def bedrock(**fields: Any) -> dict[str, Any]:
    return {
        "name": "br",
        "provider": "bedrock",
        "model_id": "anthropic.claude-3-haiku",
        "region": "us-east-1",
        **fields,
    }


def problems(backend: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, str]:
    document = {"backends": [backend], "models": {"m": ["br"]}}
    with pytest.raises(ConfigError) as caught:
        load_config({"RELAY_CONFIG": json.dumps(document), **(environ or {})})
    return dict(caught.value.problems)


def test_defaults() -> None:
    backend = parse_config({"backends": [bedrock()], "models": {"m": ["br"]}}).backends[0]
    assert isinstance(backend, BedrockSettings)
    assert (backend.endpoint_url, backend.access_key_id_setting) == (None, None)
    assert (backend.connect_timeout_seconds, backend.read_timeout_seconds, backend.max_connections) == (10, 120, 1000)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"region": "Mars"}, "backends[0].region", "should match pattern"),
        ({"model_id": ""}, "backends[0].model_id", "at least 1 character"),
        ({"endpoint_url": "emulator.test:8102"}, "backends[0].endpoint_url", "should match pattern"),
        ({"max_connections": 0}, "backends[0].max_connections", "greater than or equal to 1"),
        ({"access_key_id_setting": "K"}, "backends[0]", "go together"),
        ({"session_token_setting": "T"}, "backends[0]", "needs access_key_id_setting"),
        ({"secret_access_key": "inline!"}, "backends[0]", "secrets are never inline"),
        ({"access_key": "AKID"}, "backends[0]", "secrets are never inline"),
    ],
)
def test_invalid_settings_name_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    found = problems(bedrock(**fields))
    assert field in found and message in found[field], found


def test_missing_named_credential_settings_are_reported_by_field() -> None:
    backend = bedrock(
        access_key_id_setting="BR_KEY", secret_access_key_setting="BR_SECRET", session_token_setting="BR_TOKEN"
    )
    found = problems(backend, {"BR_KEY": "AKID"})
    assert found == {
        "backends[0].secret_access_key_setting": "app setting 'BR_SECRET' is not set",
        "backends[0].session_token_setting": "app setting 'BR_TOKEN' is not set",
    }


def test_explicit_credentials_read_the_named_settings() -> None:
    settings = BedrockSettings.model_validate(bedrock(access_key_id_setting="K", secret_access_key_setting="S"))
    assert explicit_credentials(settings, {"K": "AKID", "S": "secret"}) == {
        "aws_access_key_id": "AKID",
        "aws_secret_access_key": "secret",
    }
    assert explicit_credentials(BedrockSettings.model_validate(bedrock()), {"K": "AKID"}) == {}
