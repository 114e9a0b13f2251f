"""The provider registry: the one place that maps provider names to adapters.

Each provider lives in its own module with all of its request and response
translation; nothing outside ``shared/providers`` knows a provider's wire format.
"""

from __future__ import annotations

from . import azure_openai, bedrock, vertex
from .base import ProviderSpec

PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec for spec in (azure_openai.SPEC, bedrock.SPEC, vertex.SPEC)
}

__all__ = ["PROVIDERS", "ProviderSpec"]
