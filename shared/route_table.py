"""The routes the app serves, so a request that matches none is told which exist.

The table is filled by :class:`shared.function_routes.RelayFunctionApp` as
``function_app.py`` declares each route, so there is one routing table: the
app's own. It answers two questions for the catch-all function: which methods
a path allows (a 405 with ``Allow``) and what the relay serves (the 404's
message). Catch-all templates (``{*path}``) are left out of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# host.json's extensions.http.routePrefix; tests hold the two equal.
ROUTE_PREFIX = "api"
PARAMETER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class ServedRoute:
    """One HTTP function's route template (without the prefix) and its methods."""

    template: str
    methods: tuple[str, ...]

    @property
    def catch_all(self) -> bool:
        return "{*" in self.template

    def path(self) -> str:
        return f"/{ROUTE_PREFIX}/{self.template.strip('/')}"

    def matches(self, path: str) -> bool:
        """Whether ``path`` fits the template; literal segments compare case-insensitively, as the host does."""
        pattern = "".join(
            "[^/]+" if PARAMETER.fullmatch(part) else re.escape(part) for part in re.split(r"(\{[^}]*\})", self.path())
        )
        return re.fullmatch(pattern + "/?", path, flags=re.IGNORECASE) is not None


@dataclass
class RouteTable:
    """Every route registered so far, in registration order."""

    routes: list[ServedRoute] = field(default_factory=list)

    def add(self, template: str, methods: tuple[str, ...]) -> None:
        self.routes.append(ServedRoute(template, methods))

    def served(self) -> list[ServedRoute]:
        return [route for route in self.routes if not route.catch_all]

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route serves at ``path``; empty when no route has that path."""
        found = {method for route in self.served() if route.matches(path) for method in route.methods}
        return sorted(found)

    def listing(self) -> str:
        """``METHOD /api/path`` for every route, for an error message."""
        return ", ".join(f"{'/'.join(route.methods)} {route.path()}" for route in self.served())
