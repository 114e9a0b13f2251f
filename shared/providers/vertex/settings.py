"""A Vertex AI backend's configuration and the upstream URLs it implies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..contract import BackendSettings

API_VERSION = "v1"
PUBLISHER = "google"
POOL_PROVIDER_PATTERN = (
    r"^//iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$"
)


class WorkloadIdentitySettings(BaseModel):
    """Workload identity federation: the managed identity's Entra token traded at Google STS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool_provider: str = Field(
        pattern=POOL_PROVIDER_PATTERN,
        description="The pool provider's full name, //iam.googleapis.com/projects/N/locations/global/"
        "workloadIdentityPools/POOL/providers/PROVIDER (the STS audience).",
    )
    audience: str = Field(
        default="api://AzureADTokenExchange",
        min_length=1,
        description="The audience of the Entra token; one of the provider's allowed audiences.",
    )
    service_account: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$",
        description="A service account to impersonate; omit to call Vertex as the federated principal.",
    )
    token_url: str = Field(
        default="https://sts.googleapis.com/v1/token",
        pattern=r"^https?://[^\s/]+",
        description="Google STS's token endpoint (a local emulator overrides it).",
    )
    iam_credentials_url: str = Field(
        default="https://iamcredentials.googleapis.com",
        pattern=r"^https?://[^\s/?#]+/?$",
        description="IAM Credentials' origin, for impersonation (a local emulator overrides it).",
    )
    managed_identity_client_id: str | None = Field(
        default=None,
        min_length=1,
        description="A user-assigned identity's client id; default: AZURE_CLIENT_ID, else the system-assigned one.",
    )

    @property
    def impersonation_url(self) -> str | None:
        """``generateAccessToken`` for the service account, if one is impersonated."""
        if self.service_account is None:
            return None
        origin = self.iam_credentials_url.rstrip("/")
        return f"{origin}/v1/projects/-/serviceAccounts/{self.service_account}:generateAccessToken"


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
    workload_identity: WorkloadIdentitySettings | None = Field(
        default=None,
        description="Keyless: federate the app's managed identity into Google instead of using a key.",
    )

    @model_validator(mode="after")
    def _native_serves_gemini_only(self) -> VertexSettings:
        publisher, _, name = self.model.rpartition("/")
        if self.api == "native" and publisher not in ("", PUBLISHER):
            raise ValueError(f"api native serves Google's own models; {self.model!r} is published by {publisher!r}")
        if not name:
            raise ValueError("model must name a model after the publisher")
        if self.workload_identity is not None and self.credentials_setting:
            raise ValueError("workload_identity replaces credentials_setting; name one")
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
