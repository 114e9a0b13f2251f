"""Who is calling: the one value every authentication mode produces."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .settings import ANY_MODEL


@dataclass(frozen=True)
class Identity:
    """An authenticated caller.

    ``subject`` is stable and namespaced by mode (``key:ci``,
    ``entra:<tenant>/<object id>``); quotas are kept per subject. ``models``
    is None when every alias is allowed. ``max_tokens`` is a ceiling the
    credential itself carries (browser tokens do).
    """

    subject: str
    method: str
    models: frozenset[str] | None = None
    profile: str = "default"
    max_tokens: int | None = None
    can_mint: bool = True

    def may_use(self, alias: str) -> bool:
        """Whether this caller may name ``alias`` in ``model``."""
        return self.models is None or alias in self.models


def allowed_models(aliases: Iterable[str]) -> frozenset[str] | None:
    """A configured alias list as :attr:`Identity.models`: ``["*"]`` means every alias."""
    listed = frozenset(aliases)
    return None if ANY_MODEL in listed else listed


ANONYMOUS = Identity(subject="anonymous", method="anonymous")
