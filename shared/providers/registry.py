"""The provider registry: the one place that maps provider names to adapters.

Each provider lives in its own module (or package) with all of its request
and response translation; nothing outside ``shared/providers`` knows a
provider's wire format. The registry names each provider's module rather
than importing it, so the router, the dialects and the configuration
schema can ask which providers exist without loading boto3, openai or
google-auth; a provider's module, and its SDK, load on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from .contract import ProviderSpec

# Provider name -> the module whose ``SPEC`` describes it; adding a provider adds one line.
PROVIDER_MODULES: dict[str, str] = {
    "azure_openai": f"{__package__}.azure_openai",
    "bedrock": f"{__package__}.bedrock",
    "vertex": f"{__package__}.vertex",
}


class Registry(Mapping[str, ProviderSpec]):
    """Provider specs by name, each imported the first time it is looked up."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._specs: dict[str, ProviderSpec] = {}

    def __getitem__(self, name: str) -> ProviderSpec:
        spec = self._specs.get(name)
        if spec is None:
            module = import_module(self._modules[name])
            spec = self._specs[name] = module.SPEC
        return spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


PROVIDERS: Mapping[str, ProviderSpec] = Registry(PROVIDER_MODULES)
