"""The quota store on identity-based storage settings, as the azd template sets them (no shared keys)."""

from __future__ import annotations

import pytest
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

from shared.errors import ConfigError
from shared.limits.table_store import IdentityChoice, credential_for, identity_choice, service_client, table_endpoint

CLIENT_ID = "00000000-0000-0000-0000-0000000000aa"
TEMPLATE = {
    "AzureWebJobsStorage__blobServiceUri": "https://strelay.blob.core.windows.net/",
    "AzureWebJobsStorage__tableServiceUri": "https://strelay.table.core.windows.net/",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": CLIENT_ID,
}


def test_the_templates_settings_give_the_user_assigned_identity() -> None:
    assert identity_choice("AzureWebJobsStorage", TEMPLATE) == IdentityChoice(managed=True, client_id=CLIENT_ID)
    assert table_endpoint("AzureWebJobsStorage", TEMPLATE) == "https://strelay.table.core.windows.net/"


def test_the_client_uses_a_managed_identity_credential_for_the_template() -> None:
    client = service_client("AzureWebJobsStorage", TEMPLATE)
    assert isinstance(client.credential, ManagedIdentityCredential)
    assert client.url.startswith("https://strelay.table.core.windows.net")
    client.close()


def test_managed_identity_without_client_id_is_the_system_assigned_one() -> None:
    environ = {"Q__accountName": "strelay", "Q__credential": "managedidentity"}
    assert identity_choice("Q", environ) == IdentityChoice(managed=True, client_id=None)
    assert isinstance(credential_for(identity_choice("Q", environ)), ManagedIdentityCredential)


def test_a_client_id_alone_still_picks_that_identity() -> None:
    assert identity_choice("Q", {"Q__clientId": CLIENT_ID}) == IdentityChoice(managed=True, client_id=CLIENT_ID)


def test_without_credential_settings_the_default_chain_is_used() -> None:
    choice = identity_choice("Q", {"Q__accountName": "strelay"})
    assert choice == IdentityChoice(managed=False, client_id=None)
    assert isinstance(credential_for(choice), DefaultAzureCredential)


def test_the_credential_setting_is_case_insensitive_like_the_host() -> None:
    assert identity_choice("Q", {"Q__credential": "ManagedIdentity"}).managed


def test_an_unknown_credential_kind_names_the_setting_not_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        identity_choice("Q", {"Q__credential": "sharedkey-hunter2"})
    assert caught.value.problems[0][0] == "Q__credential"
    assert "hunter2" not in str(caught.value)


def test_the_table_uri_wins_over_the_account_name() -> None:
    environ = {"Q__tableServiceUri": "https://other.table.core.windows.net", "Q__accountName": "strelay"}
    assert table_endpoint("Q", environ) == "https://other.table.core.windows.net"


def test_an_account_name_gives_the_public_cloud_endpoint() -> None:
    assert table_endpoint("Q", {"Q__accountName": "strelay"}) == "https://strelay.table.core.windows.net"


def test_no_endpoint_setting_names_the_settings_that_would_do() -> None:
    with pytest.raises(ConfigError) as caught:
        table_endpoint("Q", {"Q__blobServiceUri": "https://strelay.blob.core.windows.net", "Q__clientId": CLIENT_ID})
    ((field, message),) = caught.value.problems
    assert field == "Q__tableServiceUri"
    assert "Q__accountName" in message


@pytest.mark.parametrize("name", ["Bad_Name", "ab", "x" * 25, "a/b"])
def test_an_invalid_account_name_names_the_setting_not_the_value(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        table_endpoint("Q", {"Q__accountName": name})
    assert caught.value.problems[0][0] == "Q__accountName"
    assert name not in str(caught.value)


def test_a_table_uri_that_is_not_https_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        table_endpoint("Q", {"Q__tableServiceUri": "strelay.table.core.windows.net"})
    assert caught.value.problems[0][0] == "Q__tableServiceUri"
