"""A Bedrock backend's configuration: which model, where, and whose credentials.

Credentials are never inline. The backend names the app settings that hold
an access key pair; or it federates the app's managed identity into an IAM
role (``web_identity``: no secret at all); or it names neither and boto3's
default chain applies: environment variables (including a Bedrock API key in
``AWS_BEARER_TOKEN_BEDROCK``), web identity, the container or instance role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..contract import BackendSettings

DEFAULT_AUDIENCE = "api://AzureADTokenExchange"

CREDENTIAL_FIELDS = ("access_key_id_setting", "secret_access_key_setting", "session_token_setting")


class WebIdentitySettings(BaseModel):
    """An IAM role assumed with the managed identity's Entra token (``AssumeRoleWithWebIdentity``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$",
        description="The role to assume, whose trust policy names the Entra tenant as an OIDC provider.",
    )
    audience: str = Field(
        default=DEFAULT_AUDIENCE,
        min_length=1,
        description="The audience of the Entra token; the OIDC provider's client id (audience) in AWS.",
    )
    session_name: str = Field(
        default="azure-llm-relay",
        pattern=r"^[\w+=,.@-]{2,64}$",
        description="RoleSessionName: shows in CloudTrail as who called Bedrock.",
    )
    sts_endpoint_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+",
        description="Overrides the regional STS endpoint (a VPC endpoint, or a local emulator).",
    )
    managed_identity_client_id: str | None = Field(
        default=None,
        min_length=1,
        description="A user-assigned identity's client id; default: AZURE_CLIENT_ID, else the system-assigned one.",
    )


class BedrockSettings(BackendSettings):
    """One Bedrock model (or inference profile) in one region."""

    provider: Literal["bedrock"]
    model_id: str = Field(
        min_length=1,
        description="Model id, inference profile id or ARN, e.g. us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    )
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$", description="AWS region, e.g. us-east-1")
    endpoint_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+",
        description="Overrides the regional endpoint (a VPC endpoint, or a local emulator).",
    )
    access_key_id_setting: str | None = Field(
        default=None, min_length=1, description="Name of the app setting holding the access key id."
    )
    secret_access_key_setting: str | None = Field(
        default=None, min_length=1, description="Name of the app setting holding the secret access key."
    )
    session_token_setting: str | None = Field(
        default=None, min_length=1, description="Name of the app setting holding a session token, if any."
    )
    web_identity: WebIdentitySettings | None = Field(
        default=None,
        description="Keyless: assume an IAM role with the app's managed identity instead of using keys.",
    )
    read_timeout_seconds: float = Field(
        default=120, gt=0, description="Longest silence on the upstream connection before giving up."
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Concurrent streams (HTTP connections) this backend may hold open; more wait for a slot.",
    )

    structured_output: Literal["auto", "native", "tool"] = Field(
        default="auto",
        description=(
            "How response_format json_schema reaches the model: 'native' is Converse's outputConfig.textFormat "
            "(only some models take it), 'tool' a forced tool whose input is the answer (any model with tool use), "
            "'auto' native for the Claude 4.5 and later models, tool otherwise."
        ),
    )

    @model_validator(mode="after")
    def _key_pair_together(self) -> BedrockSettings:
        if bool(self.access_key_id_setting) != bool(self.secret_access_key_setting):
            raise ValueError("access_key_id_setting and secret_access_key_setting go together")
        if self.session_token_setting and not self.access_key_id_setting:
            raise ValueError("session_token_setting needs access_key_id_setting and secret_access_key_setting")
        if self.web_identity is not None and self.access_key_id_setting:
            raise ValueError("web_identity replaces access_key_id_setting and secret_access_key_setting; name one")
        return self


def explicit_credentials(settings: BedrockSettings, environ: Mapping[str, str]) -> dict[str, str]:
    """boto3 client arguments for the named key settings; empty means the default chain."""
    names = {
        "aws_access_key_id": settings.access_key_id_setting,
        "aws_secret_access_key": settings.secret_access_key_setting,
        "aws_session_token": settings.session_token_setting,
    }
    return {argument: environ[name] for argument, name in names.items() if name}


def check_environment(settings: BedrockSettings, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every named credential setting must exist; the default chain is checked by AWS at first use."""
    problems = []
    for field in CREDENTIAL_FIELDS:
        name = getattr(settings, field)
        if name and not environ.get(name):
            problems.append((field, f"app setting {name!r} is not set"))
    return problems
