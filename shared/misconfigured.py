"""A relay that refused its configuration, still answering on Azure.

On Azure an exception while the worker imports ``function_app.py`` leaves the
app with zero functions and the reason in the host's log, where an operator
rarely looks. So there a refused configuration becomes a :class:`Misconfigured`
value instead, logged once at error level, and every :mod:`.http_api` entry
point handed one instead of an :class:`~shared.application.Application`
answers 503 ``relay_misconfigured`` naming the fields at fault. Only field
paths are sent: a problem's message may quote a value.
Any other start-up failure (an SDK client that cannot be built) is treated
the same way there, named by its exception type only.
Locally the exception propagates, so ``make serve`` stops with it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from azurefunctions.extensions.http.fastapi import JSONResponse, Response

from .access_config import AZURE_MARKER
from .application import Application
from .dialects.openai_chat import error_body
from .errors import ConfigError, RelayError

logger = logging.getLogger(__name__)

CODE = "relay_misconfigured"
P = ParamSpec("P")


@dataclass(frozen=True)
class Misconfigured:
    """The fields a refused configuration got wrong; what every route answers instead of serving."""

    fields: tuple[str, ...]
    failure: str | None = None

    @classmethod
    def of(cls, error: ConfigError) -> Misconfigured:
        return cls(tuple(dict.fromkeys(path for path, _ in error.problems)))

    @classmethod
    def of_failure(cls, error: Exception) -> Misconfigured:
        """A start-up failure that names no field (an SDK client that cannot be built); its type only."""
        return cls((), failure=type(error).__name__)

    def error(self) -> RelayError:
        if self.failure is not None:
            message = f"the relay failed to start ({self.failure}); the function app's log has the details"
        else:
            message = (
                f"the relay refused its configuration; fields at fault: {', '.join(self.fields)}. "
                "The function app's log says what is wrong with each."
            )
        return RelayError(message, code=CODE, status=503)

    def response(self) -> Response:
        return JSONResponse(error_body(self.error()), status_code=503, headers={"Cache-Control": "no-store"})


def application_or_refusal(environ: Mapping[str, str] | None = None) -> Application | Misconfigured:
    """The application; on Azure, a refused configuration as a :class:`Misconfigured` instead of an exception."""
    environ = os.environ if environ is None else environ
    try:
        return Application.from_environment(environ)
    except ConfigError as error:
        if not environ.get(AZURE_MARKER):
            raise
        logger.error("%s\nEvery route answers 503 %s until the configuration is fixed.", error, CODE)
        return Misconfigured.of(error)
    except Exception as error:
        if not environ.get(AZURE_MARKER):
            raise
        logger.error("the relay failed to start; every route answers 503 %s", CODE, exc_info=error)
        return Misconfigured.of_failure(error)


def guarded(
    answer: Callable[Concatenate[Application, P], Awaitable[Response]],
) -> Callable[Concatenate[Application | Misconfigured, P], Awaitable[Response]]:
    """``answer``, or the 503 when handed a :class:`Misconfigured` application."""

    @functools.wraps(answer)
    async def guard(app: Application | Misconfigured, /, *args: P.args, **kwargs: P.kwargs) -> Response:
        if isinstance(app, Misconfigured):
            return app.response()
        return await answer(app, *args, **kwargs)

    return guard


def guarded_sync(
    answer: Callable[Concatenate[Application, P], Response],
) -> Callable[Concatenate[Application | Misconfigured, P], Response]:
    """:func:`guarded` for the entry points that do not await."""

    @functools.wraps(answer)
    def guard(app: Application | Misconfigured, /, *args: P.args, **kwargs: P.kwargs) -> Response:
        if isinstance(app, Misconfigured):
            return app.response()
        return answer(app, *args, **kwargs)

    return guard
