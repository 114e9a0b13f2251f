"""Choosing backends for a model alias.

This first router orders a pool by priority and, within a priority, keeps the
configured order; the relay tries each in turn while opening fails with a
retryable error. It knows backends and nothing about wire formats.
"""

from __future__ import annotations

from collections.abc import Sequence

from .providers.base import BackendSettings


class Router:
    """Maps aliases to ordered lists of candidate backends."""

    def __init__(self, pools: dict[str, Sequence[BackendSettings]]) -> None:
        self._pools = {alias: tuple(pool) for alias, pool in pools.items()}

    def aliases(self) -> list[str]:
        """Every public alias, in configuration order."""
        return list(self._pools)

    def candidates(self, alias: str) -> list[BackendSettings]:
        """The backends to try for ``alias``, best first; empty for unknown aliases."""
        pool = self._pools.get(alias, ())
        return sorted(pool, key=lambda backend: backend.priority)
