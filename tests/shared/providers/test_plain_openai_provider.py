"""Adding a provider that speaks OpenAI's protocol takes one small module and one registry line.

The module is :mod:`tests.shared.providers.plain_openai`; it streams from the
Azure emulator's version-less ``/openai/v1`` surface, which is plain OpenAI.
"""

from __future__ import annotations

import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from shared.chat_request import ChatRequest
from shared.events import Finish, TextDelta, Usage
from shared.providers.registry import PROVIDER_MODULES, Registry
from tests.shared.providers import plain_openai

pytestmark = pytest.mark.anyio

KEY = "plain-openai-test-key"
REGISTRY = Registry({**PROVIDER_MODULES, "openai": "tests.shared.providers.plain_openai"})


def backend(emulator: AzureOpenAIEmulator) -> dict[str, object]:
    url = emulator.url  # type: ignore[attr-defined]
    return {
        "name": "plain",
        "provider": "openai",
        "base_url": f"{url}/openai/v1",
        "model": "gpt-4o",
        "api_key_setting": "K",
    }


async def test_a_registered_openai_module_streams_through_the_shared_protocol(azure: AzureOpenAIEmulator) -> None:
    spec = REGISTRY["openai"]
    settings = spec.settings_type.model_validate(backend(azure))
    assert spec.check_environment(settings, {"K": KEY}) == []
    adapter = spec.build(settings, {"K": KEY})
    request = ChatRequest.model_validate(
        {"model": "any", "messages": [{"role": "user", "content": inline_prompt(chunks=5)}]}
    )
    try:
        stream = await adapter.open(request)
        events = [event async for event in stream.events]
    finally:
        await adapter.aclose()
    assert "".join(event.content for event in events if isinstance(event, TextDelta)) == DEFAULT_TEXT
    assert any(isinstance(event, Usage) for event in events)
    assert events[-1] == Finish("stop")
    assert [record.auth for record in azure.recorder.records] == ["bearer"]


def test_the_registry_knows_the_new_provider_and_keeps_the_others() -> None:
    assert REGISTRY["openai"] is plain_openai.SPEC
    assert set(REGISTRY) == {*PROVIDER_MODULES, "openai"}


def test_the_module_is_small() -> None:
    source = plain_openai.__file__
    with open(source, encoding="utf-8") as module:
        assert len(module.read().splitlines()) <= 50
