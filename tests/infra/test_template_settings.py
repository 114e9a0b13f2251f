"""The template against the app: the settings it sets are the ones the relay and the Flex host need."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from devtools.emulators.google_oauth import make_service_account_info
from shared.config import check_environment, parse_config
from shared.errors import ConfigError
from tests.infra.bicep import INFRA, ROOT, Evaluator, app_settings, decorator, parse, secure_parameters, site

VERSIONS = decorator(parse("main.bicep")["parameters"]["pythonVersion"], "allowed")
SECRETS = secure_parameters(parse("modules/keyvault.bicep"))
# Settings Flex Consumption rejects or ignores: the runtime and scale live in functionAppConfig,
# the package in the deployment container, and there is no content file share.
DEPRECATED_ON_FLEX = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_VNET_ROUTE_ALL",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "AzureWebJobsStorage",  # a connection string would need the shared keys the account refuses
}
PLACEHOLDER = re.compile(r"__[A-Z0-9_]+__")


def every_combination() -> list[tuple[str, dict[str, str]]]:
    given = [
        {name: "x" * 40 for name in chosen} for count in range(len(SECRETS) + 1)
        for chosen in itertools.combinations(SECRETS, count)
    ]
    return [(version, secrets) for version in VERSIONS for secrets in given]


@pytest.mark.parametrize("version", VERSIONS)
def test_init_indexing_is_set_exactly_when_python_is_3_12_or_older(version: str) -> None:
    settings = app_settings(version, {})
    older = tuple(int(part) for part in version.split(".")) <= (3, 12)
    assert (settings.get("PYTHON_ENABLE_INIT_INDEXING") == "1") is older
    if not older:
        assert "PYTHON_ENABLE_INIT_INDEXING" not in settings


@pytest.mark.parametrize(("version", "secrets"), every_combination())
def test_no_setting_is_one_flex_consumption_deprecates(version: str, secrets: dict[str, str]) -> None:
    assert DEPRECATED_ON_FLEX.isdisjoint(app_settings(version, secrets))


def test_host_storage_is_identity_based_with_the_user_assigned_identity() -> None:
    settings = app_settings("3.12", {})
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId", "DefaultAzureCredential must pick the identity"
    assert "AzureWebJobsStorage__tableServiceUri" in settings or "AzureWebJobsStorage__accountName" in settings
    account = parse("modules/storage.bicep")["resources"]["account"]["config"]["properties"]
    assert account["allowSharedKeyAccess"] is False


def test_deployment_container_is_reached_with_the_user_assigned_identity() -> None:
    storage = site(parse("modules/function-app.bicep"))["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


def test_monitoring_ingests_with_entra_only() -> None:
    settings = app_settings("3.12", {})
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    monitoring = parse("modules/monitoring.bicep")["resources"]
    assert monitoring["appInsights"]["config"]["properties"]["DisableLocalAuth"] is True
    assert monitoring["workspace"]["config"]["properties"]["features"]["disableLocalAuth"] is True


def test_key_vault_is_rbac_and_references_resolve_with_the_app_identity() -> None:
    vault = parse("modules/keyvault.bicep")["resources"]["vault"]["config"]["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert site(parse("modules/function-app.bicep"))["keyVaultReferenceIdentity"] == "identityId"


def test_azure_openai_is_keyless() -> None:
    account = parse("modules/openai.bicep")["resources"]["account"]["config"]["properties"]
    assert account["disableLocalAuth"] is True
    assert "api_key_setting" not in (INFRA / "relay.azure.json").read_text()


@pytest.mark.parametrize("secret", SECRETS)
def test_each_secret_becomes_a_key_vault_reference_only_when_given(secret: str) -> None:
    without = app_settings("3.12", {})
    given = app_settings("3.12", {secret: "x" * 40})
    (added,) = set(given) - set(without)
    assert given[added].startswith("@Microsoft.KeyVault(SecretUri=")
    assert "x" * 40 not in json.dumps(given)


def test_no_output_carries_a_secure_parameter() -> None:
    for relative in ("main.bicep", "modules/keyvault.bicep", "modules/secret.bicep"):
        template = parse(relative)
        sentinels = {name: f"SECRET-{name}-VALUE" for name in secure_parameters(template)}
        assert sentinels, f"{relative} should take its secrets as @secure parameters"
        for name, output in template.get("outputs", {}).items():
            text = json.dumps(Evaluator(template, sentinels).value(output["value"]), default=str)
            assert "SECRET-" not in text, f"{relative}: output {name} carries a secure parameter"


def test_the_output_check_sees_a_leak() -> None:
    template = {"variables": {}, "parameters": {}}
    output = {"function": {"type": "union", "parameters": {"arg_1": {"A": "token"}, "arg_2": {}}}}
    assert "SECRET-" in json.dumps(Evaluator(template, {"token": "SECRET-token-VALUE"}).value(output))


def rendered_relay_config() -> dict[str, Any]:
    """infra/relay.azure.json with the values main.bicep substitutes, as deployed."""
    main = parse("main.bicep")
    text = (INFRA / "relay.azure.json").read_text(encoding="utf-8")
    replaced = re.findall(r"'(__[A-Z0-9_]+__)'", (INFRA / "main.bicep").read_text(encoding="utf-8"))
    assert set(PLACEHOLDER.findall(text)) == set(replaced), "main.bicep must replace exactly the file's placeholders"
    assert "relayConfig" in main["variables"]
    values = {
        "__AZURE_OPENAI_ENDPOINT__": "https://oai-example.openai.azure.com/",
        "__AZURE_OPENAI_DEPLOYMENT__": "gpt-4o-mini",
        "__RELAY_KEY_SHA256__": "0" * 64,
    }
    for placeholder in replaced:
        text = text.replace(placeholder, values[placeholder])
    document: dict[str, Any] = json.loads(text)
    return document


def environ_of(settings: dict[str, Any]) -> dict[str, str]:
    """The settings as the worker sees them, with Azure's own marker."""
    environ = dict.fromkeys(settings, "s" * 40) | {"WEBSITE_INSTANCE_ID": "instance"}
    if "VERTEX_CREDENTIALS" in environ:  # Key Vault resolves it to the key file's JSON
        environ["VERTEX_CREDENTIALS"] = json.dumps(make_service_account_info("https://oauth2.googleapis.com/token"))
    return environ


@pytest.mark.parametrize("version", VERSIONS)
def test_default_relay_config_is_valid_and_every_setting_it_names_is_set(version: str) -> None:
    config = parse_config(rendered_relay_config())
    check_environment(config, environ_of(app_settings(version, {})))
    assert config.auth.relay_keys, "the default must admit the key the hook mints"
    assert not config.auth.allow_anonymous


# The secrets README "Deploying" documents: each backend names the setting the template sets.
DOCUMENTED = {
    "backends": [
        {"name": "aoai", "provider": "azure_openai", "endpoint": "https://a.openai.azure.com", "deployment": "d"},
        {
            "name": "bedrock",
            "provider": "bedrock",
            "model_id": "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "region": "us-east-1",
            "access_key_id_setting": "BEDROCK_ACCESS_KEY_ID",
            "secret_access_key_setting": "BEDROCK_SECRET_ACCESS_KEY",
        },
        {
            "name": "vertex",
            "provider": "vertex",
            "project": "p",
            "location": "us-central1",
            "model": "gemini-2.0-flash-001",
            "credentials_setting": "VERTEX_CREDENTIALS",
        },
    ],
    "models": {"gpt-4o-mini": ["aoai"], "claude": ["bedrock"], "gemini": ["vertex"]},
    "auth": {
        "relay_keys": [{"name": "k", "sha256": "0" * 64, "models": ["*"]}],
        "browser_tokens": {"secret_setting": "RELAY_TOKEN_SECRET"},
    },
}


def test_documented_secrets_are_all_settable_by_the_template() -> None:
    config = parse_config(DOCUMENTED)
    check_environment(config, environ_of(app_settings("3.12", dict.fromkeys(SECRETS, "x" * 40))))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in ("BEDROCK_ACCESS_KEY_ID", "BEDROCK_SECRET_ACCESS_KEY", "VERTEX_CREDENTIALS", "RELAY_TOKEN_SECRET"):
        assert setting in readme[readme.index("## Deploying") :], f"README Deploying does not mention {setting}"


def test_a_documented_secret_left_out_is_named_by_the_relay() -> None:
    config = parse_config(DOCUMENTED)
    given = {name: "x" * 40 for name in SECRETS if name != "vertexCredentials"}
    with pytest.raises(ConfigError) as caught:
        check_environment(config, environ_of(app_settings("3.12", given)))
    assert "credentials_setting" in str(caught.value)


def test_evaluator_sees_through_to_values_not_names() -> None:
    """Guards the helper: a missing variable must not look like a set setting."""
    template = {"variables": {"a": {"value": {"X": "1"}}}, "parameters": {}}
    union = {"function": {"type": "union", "parameters": {"arg_1": "a", "arg_2": {"Y": "2"}}}}
    assert Evaluator(template, {}).value(union) == {"X": "1", "Y": "2"}


FLEX_MAX = None  # Flex Consumption: functionTimeout may be any length, or -1 for unbounded
CONSUMPTION_MAX = 10 * 60
PLAN_LIMITS: dict[str, int | None] = {"FlexConsumption": FLEX_MAX, "Dynamic": CONSUMPTION_MAX}


def timeout_seconds(text: str) -> int:
    if text.strip() == "-1":
        return -1
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})", text.strip())
    assert match, f"functionTimeout {text!r} is not a timespan"
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def test_function_timeout_fits_the_plan() -> None:
    resources = parse("modules/function-app.bicep")["resources"].values()
    (plan,) = [r for r in resources if r["type"] == "Microsoft.Web/serverfarms"]
    tier = plan["config"]["sku"]["tier"]
    assert tier in PLAN_LIMITS, f"no functionTimeout limit known for plan tier {tier}"
    timeout = timeout_seconds(json.loads(Path(ROOT / "host.json").read_text())["functionTimeout"])
    limit = PLAN_LIMITS[tier]
    assert timeout == -1 or timeout > 0
    if limit is not None:
        assert 0 < timeout <= limit
    assert timeout == -1 or timeout >= 15 * 60, "streams need minutes; README documents 30"


def test_the_timeout_check_would_refuse_a_consumption_limit_breach() -> None:
    assert timeout_seconds("00:30:00") > CONSUMPTION_MAX
    assert timeout_seconds("1.00:00:00") == 86400
