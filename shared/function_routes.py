"""The Functions app, remembering each route as it is declared.

The worker reads the functions once, at indexing, and a second
``get_functions()`` call refuses them as duplicates; so the table of routes
a 404 names is filled here, by ``route`` itself, rather than read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import azure.functions as func

from .route_table import RouteTable


class RelayFunctionApp(func.FunctionApp):
    """``func.FunctionApp`` whose ``route`` also records the template and methods in :attr:`table`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table = RouteTable()

    def route(
        self,
        route: str | None = None,
        trigger_arg_name: str = "req",
        binding_arg_name: str = "$return",
        methods: Iterable[str] | Iterable[func.HttpMethod] | None = None,
        auth_level: func.AuthLevel | str | None = None,
        trigger_extra_fields: dict[str, Any] | None = None,
        binding_extra_fields: dict[str, Any] | None = None,
    ) -> Callable[..., Any]:
        declared = tuple(str(getattr(method, "value", method)).upper() for method in methods or ())
        self.table.add(route or "", declared)
        return super().route(
            route,
            trigger_arg_name,
            binding_arg_name,
            declared or None,
            auth_level,
            trigger_extra_fields,
            binding_extra_fields,
        )
