"""Configuration: one validated document; every error names its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.write_config_schema import SCHEMA_PATH, render
from shared.config import load_config, parse_config
from shared.errors import ConfigError


def azure(name: str = "east", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "azure_openai",
        "endpoint": "https://east.openai.azure.com",
        "deployment": "gpt-4o-mini",
        **fields,
    }


def problems(document: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    return dict(caught.value.problems)


def test_minimal_document_gets_defaults() -> None:
    config = parse_config({"backends": [azure()], "models": {"gpt": ["east"]}})
    backend = config.backends[0]
    assert (backend.priority, backend.weight) == (1, 1)
    assert backend.api_version is None and backend.uses_v1  # type: ignore[attr-defined]
    assert config.models == {"gpt": ("east",)}
    assert config.limits.max_body_bytes == 1024 * 1024


def test_every_problem_is_reported_with_its_field() -> None:
    found = problems(
        {
            "backends": [
                azure(endpoint="not a url"),
                azure("west", deployment=None),
                {"name": "x", "provider": "nope"},
            ],
            "models": {"gpt": ["east"]},
        }
    )
    assert "backends[0].endpoint" in found
    assert "backends[1].deployment" in found
    assert "must be one of" in found["backends[2].provider"]


@pytest.mark.parametrize(
    ("api_version", "uses_v1"), [("v1", True), ("2024-10-21", False), ("2025-04-01-preview", False)]
)
def test_azure_api_version_picks_the_v1_or_the_dated_path(api_version: str, uses_v1: bool) -> None:
    config = parse_config({"backends": [azure(api_version=api_version)], "models": {"gpt": ["east"]}})
    backend = config.backends[0]
    assert (backend.api_version, backend.uses_v1) == (api_version, uses_v1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("api_version", ["latest", "", "2024-1-1", "V1", "2024-10-21-beta", 20241021])
def test_bad_azure_api_version_names_the_field_not_the_value(api_version: object) -> None:
    found = problems({"backends": [azure(api_version=api_version)], "models": {"gpt": ["east"]}})
    assert list(found) == ["backends[0].api_version"]
    assert "2024-10-21-beta" not in found["backends[0].api_version"]


def test_unknown_backend_in_models_is_named() -> None:
    found = problems({"backends": [azure()], "models": {"gpt": ["east", "ghost"]}})
    assert found == {"models.gpt[1]": "no backend is named 'ghost'"}


def test_duplicate_names_and_empty_pools() -> None:
    found = problems({"backends": [azure(), azure()], "models": {"gpt": []}})
    assert "duplicate" in found["backends[1].name"]
    assert found["models.gpt"] == "needs at least one backend"


@pytest.mark.parametrize("secret_field", ["api_key", "key", "secret", "credentials"])
def test_inline_secrets_are_refused(secret_field: str) -> None:
    found = problems({"backends": [azure(**{secret_field: "sk-live"})], "models": {"gpt": ["east"]}})
    assert "secrets are never inline" in found["backends[0]"]
    assert "sk-live" not in json.dumps(found)


def test_unknown_fields_and_wrong_types() -> None:
    found = problems({"backends": [azure(priority="high", colour="red")], "models": {"gpt": ["east"]}, "extra": 1})
    assert found["extra"] == "is not a known field"


def test_backend_field_errors_are_prefixed() -> None:
    found = problems({"backends": [azure(priority="high", colour="red")], "models": {"gpt": ["east"]}})
    assert "backends[0].priority" in found
    assert found["backends[0].colour"] == "is not a known field"


def test_config_from_file_and_missing_setting(tmp_path: Path) -> None:
    path = tmp_path / "relay.json"
    path.write_text(json.dumps({"backends": [azure(api_key_setting="EAST_KEY")], "models": {"gpt": ["east"]}}))
    with pytest.raises(ConfigError) as caught:
        load_config({"RELAY_CONFIG": str(path)})
    assert caught.value.problems == [("backends[0].api_key_setting", "app setting 'EAST_KEY' is not set")]
    config = load_config({"RELAY_CONFIG": str(path), "EAST_KEY": "k"})
    assert config.backends[0].name == "east"


def test_unresolved_key_vault_references_are_named_never_shown() -> None:
    reference = "@Microsoft.KeyVault(VaultName=relay-kv;SecretName=token-secret)"
    document = {
        "backends": [azure(api_key_setting="EAST_KEY")],
        "models": {"gpt": ["east"]},
        "auth": {"browser_tokens": {"secret_setting": "TOKEN_SECRET"}},
    }
    environ = {"RELAY_CONFIG": json.dumps(document), "EAST_KEY": reference, "TOKEN_SECRET": reference.lower()}
    with pytest.raises(ConfigError) as caught:
        load_config(environ)
    found = dict(caught.value.problems)
    assert set(found) == {"backends[0].api_key_setting", "auth.browser_tokens.secret_setting"}
    assert all("unresolved Key Vault reference" in message for message in found.values())
    assert "relay-kv" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "is not set"), ("/no/such/file.json", "cannot read file"), ("{nope", "is not valid JSON")],
)
def test_unusable_relay_config_setting(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"RELAY_CONFIG": value})
    field, message = caught.value.problems[0]
    assert field == "RELAY_CONFIG" and expected in message


def test_shipped_schema_matches_the_models() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render()


def test_demo_config_is_valid() -> None:
    document = json.loads(Path("devtools/config/relay.dev.json").read_text())
    assert "azure" in parse_config(document).models


def test_routing_defaults() -> None:
    routing = parse_config({"backends": [azure()], "models": {"gpt": ["east"]}}).routing
    assert (routing.failover.max_attempts, routing.failover.budget_seconds) == (3, 30)
    assert (routing.cooldown.default_seconds, routing.cooldown.max_seconds) == (10, 300)
    assert (routing.breaker.failure_threshold, routing.breaker.open_seconds) == (5, 30)
    assert (routing.headroom.reserve_requests, routing.headroom.reserve_tokens) == (1, 1000)


@pytest.mark.parametrize(
    ("routing", "field"),
    [
        ({"failover": {"max_attempts": 0}}, "routing.failover.max_attempts"),
        ({"failover": {"budget_seconds": "30"}}, "routing.failover.budget_seconds"),
        ({"cooldown": {"default_seconds": 90, "max_seconds": 60}}, "routing.cooldown"),
        ({"breaker": {"failure_threshold": 0}}, "routing.breaker.failure_threshold"),
        ({"headroom": {"reserve_tokens": -1}}, "routing.headroom.reserve_tokens"),
        ({"strategy": "round_robin"}, "routing.strategy"),
    ],
)
def test_routing_problems_name_their_field(routing: dict[str, Any], field: str) -> None:
    found = problems({"backends": [azure()], "models": {"gpt": ["east"]}, "routing": routing})
    assert field in found, found
