"""A Vertex AI backend's configuration and the upstream URLs it implies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..contract import BackendSettings

API_VERSION = "v1"
PUBLISHER = "google"


class VertexSettings(BackendSettings):
    """One Gemini model in one Google Cloud project and location."""

    provider: Literal["vertex"]
    project: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.:_-]*$", description="The Google Cloud project id, e.g. my-project."
    )
    location: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="The region, e.g. us-central1, or global.")
    model: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@/-]*$",
        description="The Gemini model, e.g. gemini-2.0-flash-001 (google/gemini-2.0-flash-001 also accepted).",
    )
    api: Literal["openai", "native"] = Field(
        default="openai",
        description="openai: Vertex's OpenAI-compatible chat completions; native: Gemini streamGenerateContent.",
    )
    endpoint_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+/?$",
        description="Replaces https://{location}-aiplatform.googleapis.com (scheme and host only).",
    )
    credentials_setting: str | None = Field(
        default=None,
        min_length=1,
        description="Name of the app setting holding service-account or workload-identity JSON; omit for ADC.",
    )

    @model_validator(mode="after")
    def _native_serves_gemini_only(self) -> VertexSettings:
        publisher, _, name = self.model.rpartition("/")
        if self.api == "native" and publisher not in ("", PUBLISHER):
            raise ValueError(f"api native serves Google's own models; {self.model!r} is published by {publisher!r}")
        if not name:
            raise ValueError("model must name a model after the publisher")
        return self

    @property
    def origin(self) -> str:
        """Scheme and host: the override, or Google's regional (or global) endpoint."""
        if self.endpoint_url:
            return self.endpoint_url.rstrip("/")
        if self.location == "global":
            return "https://aiplatform.googleapis.com"
        return f"https://{self.location}-aiplatform.googleapis.com"

    @property
    def location_path(self) -> str:
        return f"/{API_VERSION}/projects/{self.project}/locations/{self.location}"

    @property
    def openai_base_url(self) -> str:
        """The OpenAI SDK's ``base_url``; the SDK appends ``/chat/completions``."""
        return f"{self.origin}{self.location_path}/endpoints/openapi"

    @property
    def openai_model(self) -> str:
        """The model as the OpenAI-compatible endpoint names it: ``publisher/model``."""
        return self.model if "/" in self.model else f"{PUBLISHER}/{self.model}"

    @property
    def stream_url(self) -> str:
        """The native streaming method, asking for SSE rather than a JSON array."""
        name = self.model.rpartition("/")[2]
        return f"{self.origin}{self.location_path}/publishers/{PUBLISHER}/models/{name}:streamGenerateContent?alt=sse"
