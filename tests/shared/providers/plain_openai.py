"""A plain OpenAI provider, as small as one can be: what adding an OpenAI-protocol provider takes.

Registered only by the test that proves it (``test_plain_openai_provider.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from shared.chat_request import ChatRequest
from shared.providers.contract import BackendSettings, ProviderSpec, UpstreamStream
from shared.providers.openai_client import chat_poster
from shared.providers.openai_compatible import chat_params, open_chat_stream


class OpenAISettings(BackendSettings):
    provider: Literal["openai"]
    base_url: str = Field(pattern=r"^https?://")
    model: str = Field(min_length=1)
    api_key_setting: str


class OpenAIAdapter:
    def __init__(self, settings: OpenAISettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._poster = chat_poster(
            settings, settings.model, base_url=settings.base_url, api_key=environ[settings.api_key_setting]
        )

    async def open(self, request: ChatRequest) -> UpstreamStream:
        params = chat_params(request, self.settings.model)
        return await open_chat_stream(self._poster, params, self.settings.name)

    async def aclose(self) -> None:
        await self._poster.aclose()


def check_environment(settings: OpenAISettings, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    missing = not environ.get(settings.api_key_setting)
    return [("api_key_setting", f"app setting {settings.api_key_setting!r} is not set")] if missing else []


SPEC = ProviderSpec(
    name="openai", settings_type=OpenAISettings, build=OpenAIAdapter, check_environment=check_environment
)
