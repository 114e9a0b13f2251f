"""The relay's configuration: one JSON document, validated at start-up.

``RELAY_CONFIG`` holds the document inline or names a JSON file. Every
problem is reported at once, each naming the field at fault, so a deployment
with a typo fails on start with a message that says where to look.

Provider-specific fields are validated by each provider's own settings model,
found through the registry, so this module never names a provider.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .access_config import environment_problems, reference_problems
from .auth.settings import AuthSettings
from .chat_request import field_path
from .cors import CorsSettings
from .errors import ConfigError
from .key_vault_references import unresolved_references
from .limits.settings import QuotaSettings
from .policy.settings import PolicySettings
from .providers.contract import BackendSettings
from .providers.registry import PROVIDERS
from .resumable.settings import ResumableSettings
from .routing.settings import RoutingSettings

CONFIG_SETTING = "RELAY_CONFIG"
Problems = list[tuple[str, str]]


class Limits(BaseModel):
    """Request size limits applied before any upstream call."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest accepted request body.")
    body_read_seconds: float = Field(
        default=30, gt=0, description="Longest time a client may take to send its request body (then 408)."
    )


class StreamSettings(BaseModel):
    """How the relay paces and bounds client streams."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    heartbeat_seconds: float = Field(default=15, gt=0, description="SSE comment interval while no event arrives.")
    first_token_timeout_seconds: float = Field(default=120, gt=0, description="Longest wait for the first event.")
    idle_timeout_seconds: float = Field(default=120, gt=0, description="Longest silence between events.")


class _Sections(BaseModel):
    """The configuration's sections, named once for the document and the validated configuration.

    ``backends`` and ``models`` are typed by each subclass (raw in the
    document, parsed in the configuration); they are declared here only so
    that they stay first, as the shipped JSON Schema lists them.
    """

    backends: Any = None
    models: Any = None
    limits: Limits = Limits()
    stream: StreamSettings = StreamSettings()
    routing: RoutingSettings = RoutingSettings()
    auth: AuthSettings = AuthSettings()
    policy: PolicySettings = PolicySettings()
    quotas: QuotaSettings = QuotaSettings()
    cors: CorsSettings = CorsSettings()
    resumable: ResumableSettings = ResumableSettings()


# The sections validated generically and carried over as they are.
SECTIONS = tuple(name for name in _Sections.model_fields if name not in ("backends", "models"))


class _Document(_Sections):
    """The parts of the document validated generically (backends come separately)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    backends: list[dict[str, Any]] = Field(min_length=1)
    models: dict[str, list[str]] = Field(min_length=1)


class RelayConfig(_Sections):
    """The validated configuration."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    backends: tuple[BackendSettings, ...]
    models: dict[str, tuple[str, ...]]

    def backend(self, name: str) -> BackendSettings:
        """The backend called ``name``."""
        return next(backend for backend in self.backends if backend.name == name)


def load_config(environ: Mapping[str, str]) -> RelayConfig:
    """Read ``RELAY_CONFIG`` (inline JSON or a file path) and validate it."""
    raw = environ.get(CONFIG_SETTING, "").strip()
    if not raw:
        raise ConfigError([(CONFIG_SETTING, "is not set; give inline JSON or the path of a JSON file")])
    if not raw.startswith("{"):
        path = Path(raw)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([(CONFIG_SETTING, f"cannot read file {raw!r}: {exc.strerror}")]) from None
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise ConfigError([(CONFIG_SETTING, f"is not valid JSON: {exc}")]) from None
    config = parse_config(document)
    check_environment(config, environ)
    return config


def parse_config(document: Any) -> RelayConfig:
    """Validate a configuration document, collecting every problem."""
    if not isinstance(document, dict):
        raise ConfigError([("(document)", "must be a JSON object")])
    try:
        generic = _Document.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
    problems: Problems = []
    backends = [_parse_backend(raw, index, problems) for index, raw in enumerate(generic.backends)]
    valid = [backend for backend in backends if backend is not None]
    problems += _check_names(valid)
    problems += _check_models(generic.models, valid if len(valid) == len(backends) else None)
    problems += reference_problems(generic.models, generic.auth, generic.policy, generic.quotas)
    if problems:
        raise ConfigError(problems)
    return RelayConfig(
        backends=tuple(valid),
        models={alias: tuple(names) for alias, names in generic.models.items()},
        **{name: getattr(generic, name) for name in SECTIONS},
    )


def check_environment(config: RelayConfig, environ: Mapping[str, str]) -> None:
    """Fail if an app setting the configuration names (a key, a credential) is missing or unresolved."""
    problems: Problems = []
    for index, backend in enumerate(config.backends):
        spec = PROVIDERS[backend.provider]
        for field, message in spec.check_environment(backend, environ):
            problems.append((f"backends[{index}].{field}", message))
    problems += environment_problems(config.auth, config.quotas, environ)
    sections = {"backends": config.backends, "auth": config.auth, "quotas": config.quotas}
    problems += unresolved_references(sections, environ)
    if problems:
        raise ConfigError(problems)


def _parse_backend(raw: dict[str, Any], index: int, problems: Problems) -> BackendSettings | None:
    where = f"backends[{index}]"
    provider = raw.get("provider")
    spec = PROVIDERS.get(provider) if isinstance(provider, str) else None
    if spec is None:
        known = ", ".join(sorted(PROVIDERS))
        problems.append((f"{where}.provider", f"must be one of {known}; got {provider!r}"))
        return None
    try:
        return spec.settings_type.model_validate(raw)
    except ValidationError as exc:
        problems += [(f"{where}.{path}" if path else where, message) for path, message in _problems(exc)]
        return None


def _check_names(backends: list[BackendSettings]) -> Problems:
    seen: set[str] = set()
    problems: Problems = []
    for index, backend in enumerate(backends):
        if backend.name in seen:
            problems.append((f"backends[{index}].name", f"duplicate backend name {backend.name!r}"))
        seen.add(backend.name)
    return problems


def _check_models(models: dict[str, list[str]], backends: list[BackendSettings] | None) -> Problems:
    problems: Problems = []
    names = {backend.name for backend in backends} if backends is not None else None
    for alias, pool in models.items():
        if not alias.strip():
            problems.append(("models", "aliases must not be empty"))
        if not pool:
            problems.append((f"models.{alias}", "needs at least one backend"))
        for position, name in enumerate(pool):
            if names is not None and name not in names:
                problems.append((f"models.{alias}[{position}]", f"no backend is named {name!r}"))
    return problems


def _problems(exc: ValidationError) -> Problems:
    found: Problems = []
    for problem in exc.errors(include_url=False, include_input=False):
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "is not a known field"
        elif problem["type"] == "missing":
            message = "is required"
        found.append((field_path(problem["loc"]), message))
    return found


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration document, generated from the models.

    ``relay.schema.json`` at the repository root is this output; a test keeps
    the two identical.
    """
    schema = _Document.model_json_schema()
    backends = [spec.settings_type.model_json_schema() for spec in PROVIDERS.values()]
    definitions = schema.setdefault("$defs", {})
    for backend in backends:
        definitions.update(backend.pop("$defs", {}))
    schema["properties"]["backends"]["items"] = {"oneOf": backends}
    schema["properties"]["models"]["additionalProperties"]["minItems"] = 1
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Relay configuration (RELAY_CONFIG)"
    return schema
