"""Azure OpenAI: chat completions through ``openai.AsyncAzureOpenAI``.

Credentials are an API key read from a *named* app setting (which may be a
Key Vault reference) or, without one, keyless Entra ID through
``azure-identity``'s async ``DefaultAzureCredential``, so token refreshes never
block the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import openai
from pydantic import Field

from ..chat_request import ChatRequest
from .contract import BackendSettings, ProviderSpec, UpstreamStream
from .openai_client import openai_client
from .openai_compatible import chat_params, open_chat_stream

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"


class AzureOpenAISettings(BackendSettings):
    """One Azure OpenAI deployment."""

    provider: Literal["azure_openai"]
    endpoint: str = Field(pattern=r"^https?://[^\s/]+", description="e.g. https://my-resource.openai.azure.com")
    deployment: str = Field(min_length=1)
    api_version: str = Field(default="2024-10-21", min_length=1)
    api_key_setting: str | None = Field(
        default=None, min_length=1, description="Name of the app setting holding the key; omit for Entra ID."
    )


class AzureOpenAIAdapter:
    """One deployment's SDK client, built once and shared by every request."""

    def __init__(self, settings: AzureOpenAISettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._credential: Any = None
        self._client = openai_client(
            settings,
            openai.AsyncAzureOpenAI,
            azure_endpoint=settings.endpoint,
            api_version=settings.api_version,
            **self._auth(settings, environ),
        )

    def _auth(self, settings: AzureOpenAISettings, environ: Mapping[str, str]) -> dict[str, Any]:
        if settings.api_key_setting:
            return {"api_key": environ[settings.api_key_setting]}
        from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

        self._credential = DefaultAzureCredential()
        return {"azure_ad_token_provider": get_bearer_token_provider(self._credential, ENTRA_SCOPE)}

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Open a streaming chat completion on this deployment."""
        params = chat_params(request, self.settings.deployment)
        return await open_chat_stream(self._client, params, self.settings.name)

    async def aclose(self) -> None:
        """Close the HTTP pool and the credential."""
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()


def check_environment(settings: AzureOpenAISettings, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The key's app setting must exist when one is named."""
    name = settings.api_key_setting
    if name and not environ.get(name):
        return [("api_key_setting", f"app setting {name!r} is not set")]
    return []


SPEC = ProviderSpec(
    name="azure_openai",
    settings_type=AzureOpenAISettings,
    build=AzureOpenAIAdapter,
    check_environment=check_environment,
)
