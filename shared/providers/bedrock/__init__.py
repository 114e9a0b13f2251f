"""AWS Bedrock: chat through the Converse API's ``ConverseStream``.

The package holds all of Bedrock's translation: ``request`` (OpenAI request
to Converse parameters), ``response`` (Converse events to canonical events),
``failures`` (Bedrock errors to relay errors) and ``transport`` (signing with
boto3, streaming without blocking the event loop). This module is the
registry entry.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..base import ProviderSpec
from .adapter import BedrockAdapter
from .settings import BedrockSettings, check_environment


def build(settings: BedrockSettings, environ: Mapping[str, str]) -> BedrockAdapter:
    """Create the adapter, its boto3 client and its connection pool for one backend."""
    return BedrockAdapter(settings, environ)


SPEC = ProviderSpec(
    name="bedrock",
    settings_type=BedrockSettings,
    build=build,
    check_environment=check_environment,
)

__all__ = ["SPEC", "BedrockAdapter", "BedrockSettings"]
