"""AWS Bedrock: chat through the Converse API's ``ConverseStream``.

The package holds all of Bedrock's translation: ``request`` (OpenAI request
to Converse parameters), ``response`` (Converse events to canonical events),
``failures`` (Bedrock errors to relay errors) and ``transport`` (signing with
boto3, streaming without blocking the event loop). This module is the
registry entry.
"""

from __future__ import annotations

from ..contract import ProviderSpec
from .adapter import BedrockAdapter
from .settings import BedrockSettings, check_environment

SPEC = ProviderSpec(
    name="bedrock",
    settings_type=BedrockSettings,
    build=BedrockAdapter,
    check_environment=check_environment,
)

__all__ = ["SPEC", "BedrockAdapter", "BedrockSettings"]
