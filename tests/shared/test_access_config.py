"""The access sections of the configuration: every problem names its field and quotes no secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.auth.relay_keys import hash_key
from shared.config import load_config, parse_config
from shared.errors import ConfigError

BACKEND = {"name": "east", "provider": "azure_openai", "endpoint": "https://east.openai.azure.com", "deployment": "d"}
DIGEST = hash_key("rk-some-key")


def document(**sections: Any) -> dict[str, Any]:
    return {"backends": [BACKEND], "models": {"gpt": ["east"]}, **sections}


def problems(**sections: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document(**sections))
    return dict(caught.value.problems)


def environment_problems(environ: dict[str, str], **sections: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config({"RELAY_CONFIG": json.dumps(document(**sections)), **environ})
    return dict(caught.value.problems)


def test_a_full_access_configuration_is_valid() -> None:
    config = parse_config(
        document(
            auth={
                "relay_keys": [{"name": "ci", "sha256": DIGEST, "models": ["gpt"], "profile": "batch"}],
                "entra": {"tenant_id": "t", "audiences": ["api://relay"], "required_roles": ["Relay.Use"]},
                "easy_auth": {"platform_sets_principal": True, "models": ["*"]},
                "browser_tokens": {"secret_setting": "TOKEN_SECRET", "profile": "browser"},
            },
            policy={"profiles": {"browser": {"allowed_parameters": ["temperature"], "max_tokens": 256}}},
            quotas={"store": "table", "profiles": {"batch": {"tokens_per_day": 10**6}}},
            cors={"allowed_origins": ["https://app.example.com"]},
        )
    )
    assert config.auth.modes() == ["relay_keys", "entra", "easy_auth", "browser_tokens"]
    assert config.quotas.table.connection_setting == "AzureWebJobsStorage"


@pytest.mark.parametrize(
    ("sections", "field", "message"),
    [
        (
            {"auth": {"relay_keys": [{"name": "ci", "sha256": DIGEST, "models": ["nope"]}]}},
            "auth.relay_keys[0].models[0]",
            "no model alias is named 'nope'",
        ),
        (
            {"auth": {"relay_keys": [{"name": "ci", "sha256": DIGEST, "models": ["*"], "profile": "ghost"}]}},
            "auth.relay_keys[0].profile",
            "no profile is named 'ghost' in policy.profiles or quotas.profiles",
        ),
        (
            {"auth": {"relay_keys": [{"name": "ci", "sha256": "abc", "models": ["*"]}]}},
            "auth.relay_keys[0].sha256",
            "String should match pattern '^[0-9a-f]{64}$'",
        ),
        (
            {"auth": {"relay_keys": [{"name": "ci", "sha256": DIGEST, "models": ["*"]}] * 2}},
            "auth.relay_keys[1].name",
            "duplicate key name 'ci'",
        ),
        (
            {"auth": {"entra": {"tenant_id": "t", "audiences": ["a"], "models": ["x"]}}},
            "auth.entra.models[0]",
            "no model alias is named 'x'",
        ),
        (
            {"auth": {"easy_auth": {"platform_sets_principal": False}}},
            "auth.easy_auth.platform_sets_principal",
            "Input should be True",
        ),
        (
            {"auth": {"browser_tokens": {"secret_setting": "S", "profile": "kiosk"}}},
            "auth.browser_tokens.profile",
            "no profile is named 'kiosk' in policy.profiles or quotas.profiles",
        ),
        ({"auth": {"api_key": "sk-inline"}}, "auth.api_key", "is not a known field"),
        ({"policy": {"aliases": {"gpt-5": {}}}}, "policy.aliases.gpt-5", "no model alias is named 'gpt-5'"),
        (
            {"policy": {"profiles": {"default": {"allowed_parameters": ["logit_bias_typo"]}}}},
            "policy.profiles.default.allowed_parameters[0]",
            "unknown parameter 'logit_bias_typo'",
        ),
        ({"quotas": {"store": "redis"}}, "quotas.store", "Input should be 'memory' or 'table'"),
        (
            {"quotas": {"profiles": {"default": {"concurrent_streams": 501}}}},
            "quotas.profiles.default.concurrent_streams",
            "Input should be less than or equal to 500",
        ),
        (
            {"cors": {"allowed_origins": ["*"], "allow_credentials": True}},
            "cors",
            'Value error, allowed_origins ["*"] cannot be combined with allow_credentials',
        ),
    ],
)
def test_problems_name_their_field(sections: dict[str, Any], field: str, message: str) -> None:
    assert problems(**sections)[field] == message


def test_app_settings_the_sections_name_must_be_set_and_strong() -> None:
    sections = {
        "auth": {"browser_tokens": {"secret_setting": "TOKEN_SECRET", "previous_secret_setting": "OLD_SECRET"}},
        "quotas": {"store": "table", "table": {"connection_setting": "QUOTA_STORE"}},
    }
    found = environment_problems({"OLD_SECRET": "short-secret"}, **sections)
    assert found == {
        "auth.browser_tokens.secret_setting": "app setting 'TOKEN_SECRET' is not set",
        "auth.browser_tokens.previous_secret_setting": "app setting 'OLD_SECRET' must hold at least 32 characters",
        "quotas.table.connection_setting": "app setting 'QUOTA_STORE' (or QUOTA_STORE__tableServiceUri / "
        "QUOTA_STORE__accountName) is not set",
    }
    assert "short-secret" not in json.dumps(found)


def test_an_identity_based_store_connection_is_enough() -> None:
    config = load_config(
        {"RELAY_CONFIG": json.dumps(document(quotas={"store": "table"})), "AzureWebJobsStorage__accountName": "acct"}
    )
    assert config.quotas.store == "table"
