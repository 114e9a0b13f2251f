"""Every upstream the relay can stream from, one module or package per provider.

``contract`` is what the relay sees of a provider and ``registry`` maps
provider names to their modules. Importing this package or either of those
loads no SDK; ``PROVIDERS`` is re-exported lazily for the same reason.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROVIDERS"]


def __getattr__(name: str) -> Any:
    if name == "PROVIDERS":
        from .registry import PROVIDERS

        return PROVIDERS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
