"""Azure OpenAI: chat completions on the v1 API or on a dated API version.

Without ``api_version``, or with ``"v1"``, the adapter talks to the
version-less ``{endpoint}/openai/v1/`` with the plain ``openai.AsyncOpenAI``
client, the deployment name going in the body's ``model``: this is the path
Microsoft keeps current, and the one Azure AI Foundry serves its non-OpenAI
models on. A dated ``api_version`` keeps ``openai.AsyncAzureOpenAI`` and the
``/openai/deployments/{deployment}/...?api-version=...`` path, so configurations
that pinned one behave as before.

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
from .openai_client import chat_poster
from .openai_compatible import chat_params, open_chat_stream
from .openai_direct import ChatPoster

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
V1 = "v1"
API_VERSION_PATTERN = r"^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$"


class AzureOpenAISettings(BackendSettings):
    """One Azure OpenAI (or Azure AI Foundry) deployment."""

    provider: Literal["azure_openai"]
    endpoint: str = Field(pattern=r"^https?://[^\s/]+", description="e.g. https://my-resource.openai.azure.com")
    deployment: str = Field(min_length=1, description="The deployment name, sent as the model.")
    api_version: str | None = Field(
        default=None,
        pattern=API_VERSION_PATTERN,
        description='Omit or "v1" for the /openai/v1/ API; a dated version (2024-10-21) for the deployments path.',
    )
    api_key_setting: str | None = Field(
        default=None, min_length=1, description="Name of the app setting holding the key; omit for Entra ID."
    )

    @property
    def uses_v1(self) -> bool:
        """Whether requests go to the version-less v1 API rather than a dated deployments path."""
        return self.api_version in (None, V1)


class AzureOpenAIAdapter:
    """One deployment's SDK client, built once and shared by every request."""

    def __init__(self, settings: AzureOpenAISettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._credential: Any = None
        self._poster = self._v1_client(environ) if settings.uses_v1 else self._dated_client(environ)

    def _v1_client(self, environ: Mapping[str, str]) -> ChatPoster:
        """The plain OpenAI client on ``/openai/v1``; a key or an Entra token both travel as a bearer token."""
        key = self._key(environ)
        token = None if key is not None else self._token_provider()
        return chat_poster(
            self.settings,
            self.settings.deployment,
            base_url=f"{self.settings.endpoint.rstrip('/')}/openai/v1",
            api_key=key if token is None else token,
            token=token,
        )

    def _dated_client(self, environ: Mapping[str, str]) -> ChatPoster:
        """The Azure client on ``/openai/deployments/...``, which the pinned ``api-version`` needs."""
        key = self._key(environ)
        token = None if key is not None else self._token_provider()
        auth = {"api_key": key} if token is None else {"azure_ad_token_provider": token}
        return chat_poster(
            self.settings,
            self.settings.deployment,
            openai.AsyncAzureOpenAI,
            token=token,
            azure_endpoint=self.settings.endpoint,
            api_version=self.settings.api_version,
            **auth,
        )

    def _key(self, environ: Mapping[str, str]) -> str | None:
        name = self.settings.api_key_setting
        return environ[name] if name else None

    def _token_provider(self) -> Any:
        """An async callable returning a fresh Entra ID token; the credential is closed in :meth:`aclose`."""
        from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider

        self._credential = DefaultAzureCredential()
        return get_bearer_token_provider(self._credential, ENTRA_SCOPE)

    async def open(self, request: ChatRequest) -> UpstreamStream:
        """Open a streaming chat completion on this deployment."""
        params = chat_params(request, self.settings.deployment)
        return await open_chat_stream(self._poster, params, self.settings.name)

    async def aclose(self) -> None:
        """Close the HTTP pool and the credential."""
        await self._poster.aclose()
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
