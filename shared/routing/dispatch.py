"""One backend handed out for one request, which reports back to the router exactly once.

A half-open backend admits one probe and takes no other traffic until the
probe's outcome is recorded. So an attempt whose outcome is never recorded
(an open that raised something unexpected, or was cancelled because the
client left) would leave the backend ``probing`` until the process restarts.
A :class:`Dispatch` makes the rule structural: the first outcome reported
wins, later ones are ignored, and leaving its ``with`` block by an exception
reports a neutral outcome if nothing else was reported. Whoever holds a
dispatch past that block (the stream it opened) ends it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from ..providers.contract import BackendSettings
from .outcome import NEUTRAL, Outcome

if TYPE_CHECKING:
    from .router import Router


class Dispatch:
    """A backend chosen for one attempt; :meth:`end` records its outcome once."""

    def __init__(self, router: Router, backend: BackendSettings) -> None:
        self.backend = backend
        self._router = router
        self._ended = False

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def ended(self) -> bool:
        return self._ended

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Pass the rate-limit counters of the backend's response on to the router."""
        self._router.record_headers(self.name, headers)

    def end(self, outcome: Outcome = NEUTRAL) -> None:
        """Record ``outcome`` unless an outcome was already recorded."""
        if self._ended:
            return
        self._ended = True
        self._router.record(self.name, outcome)

    def __enter__(self) -> Dispatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if error is not None:
            self.end(NEUTRAL)
