"""``GET /v1/models`` and ``GET /v1/models/{id}`` through the real OpenAI SDK."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai
import pytest

from devtools.threaded_server import ThreadedServer
from tests.builders import RELAY_TEST_KEY, single_azure_config


def test_created_is_when_the_configuration_loaded(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    before = int(time.time())
    relay = start_relay(single_azure_config(azure))
    after = int(time.time())
    with openai.OpenAI(base_url=f"{relay.url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as sdk:
        listed = sdk.models.list().data
        retrieved = sdk.models.retrieve("azure")
    assert [model.id for model in listed] == ["azure"]
    assert before <= listed[0].created <= after
    assert (retrieved.id, retrieved.created, retrieved.owned_by) == ("azure", listed[0].created, "relay")


def test_an_unknown_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("gpt-4o")
    assert raised.value.code == "model_not_found"
