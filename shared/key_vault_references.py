"""App settings that still hold an unresolved Key Vault reference.

When App Service cannot resolve ``@Microsoft.KeyVault(...)`` (the identity
lacks *Key Vault Secrets User*, the role has not propagated yet, the secret
is missing), it hands the app the reference text itself. That text is long
and public, so a relay that took it as a key or a signing secret would run
with a guessable credential. Every setting the configuration names is checked
here, and the field that names it is reported, never the value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

REFERENCE_PREFIX = "@microsoft.keyvault("
SETTING_SUFFIX = "_setting"
Problems = list[tuple[str, str]]


def unresolved_references(sections: Mapping[str, Any], environ: Mapping[str, str]) -> Problems:
    """A problem for each ``*_setting`` field whose app setting holds an unresolved reference."""
    problems: Problems = []
    for path, setting in _setting_fields(sections, ""):
        if environ.get(setting, "").strip().lower().startswith(REFERENCE_PREFIX):
            message = (
                f"app setting {setting!r} is an unresolved Key Vault reference; "
                "check that the secret exists and the app's identity may read it"
            )
            problems.append((path, message))
    return problems


def _setting_fields(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        for name, item in value.items():
            where = f"{path}.{name}" if path else str(name)
            if isinstance(item, str) and str(name).endswith(SETTING_SUFFIX):
                yield where, item
            else:
                yield from _setting_fields(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _setting_fields(item, f"{path}[{index}]")
