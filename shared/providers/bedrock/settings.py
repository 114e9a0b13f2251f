"""A Bedrock backend's configuration: which model, where, and whose credentials.

Credentials are never inline. Either the backend names the app settings that
hold an access key pair, or it names none and boto3's default chain applies:
environment variables (including a Bedrock API key in
``AWS_BEARER_TOKEN_BEDROCK``), web identity, the container or instance role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from ..contract import BackendSettings

CREDENTIAL_FIELDS = ("access_key_id_setting", "secret_access_key_setting", "session_token_setting")


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
