"""Checks that tie the access sections (auth, policy, quotas) to the rest of the configuration.

Field models validate each section on its own; these checks need more than
one section (a relay key names aliases from ``models`` and a profile from
``policy`` or ``quotas``) or the environment (a signing secret's app setting).
Like every configuration problem, each names its field, and none quotes a
secret's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .auth.settings import ANY_MODEL, AuthSettings, Grant
from .limits.settings import QuotaSettings
from .policy.enforce import CLIENT_PARAMETERS
from .policy.settings import PolicySettings

Problems = list[tuple[str, str]]
MIN_SECRET_LENGTH = 32
AZURE_MARKER = "WEBSITE_INSTANCE_ID"


def reference_problems(
    models: Mapping[str, Sequence[str]], auth: AuthSettings, policy: PolicySettings, quotas: QuotaSettings
) -> Problems:
    """Aliases, profiles and parameter names that the access sections use must exist."""
    profiles = {"default", *policy.profiles, *quotas.profiles}
    problems: Problems = []
    for where, grant in _grants(auth):
        problems += _alias_problems(f"{where}.models", grant.models, models)
        problems += _profile_problems(f"{where}.profile", grant.profile, profiles)
    if auth.browser_tokens is not None:
        problems += _profile_problems("auth.browser_tokens.profile", auth.browser_tokens.profile, profiles)
    problems += _duplicate_key_problems(auth)
    for alias in policy.aliases:
        if alias not in models:
            problems.append((f"policy.aliases.{alias}", f"no model alias is named {alias!r}"))
    for section, rules_by_name in (("profiles", policy.profiles), ("aliases", policy.aliases)):
        for name, rules in rules_by_name.items():
            for index, parameter in enumerate(rules.allowed_parameters or []):
                if parameter not in CLIENT_PARAMETERS:
                    where = f"policy.{section}.{name}.allowed_parameters[{index}]"
                    problems.append((where, f"unknown parameter {parameter!r}"))
    return problems


def environment_problems(auth: AuthSettings, quotas: QuotaSettings, environ: Mapping[str, str]) -> Problems:
    """App settings the access sections name must be set; anonymous access never runs on Azure."""
    problems: Problems = []
    tokens = auth.browser_tokens
    if tokens is not None:
        problems += _secret_problems("auth.browser_tokens.secret_setting", tokens.secret_setting, environ)
        if tokens.previous_secret_setting is not None:
            where = "auth.browser_tokens.previous_secret_setting"
            problems += _secret_problems(where, tokens.previous_secret_setting, environ)
    if quotas.store == "table":
        name = quotas.table.connection_setting
        if not any(environ.get(setting) for setting in (name, f"{name}__tableServiceUri", f"{name}__accountName")):
            message = f"app setting {name!r} (or {name}__tableServiceUri / {name}__accountName) is not set"
            problems.append(("quotas.table.connection_setting", message))
    if auth.allow_anonymous and environ.get(AZURE_MARKER):
        message = f"is for local development only and is refused on Azure ({AZURE_MARKER} is set)"
        problems.append(("auth.allow_anonymous", message))
    return problems


def _grants(auth: AuthSettings) -> list[tuple[str, Grant]]:
    grants: list[tuple[str, Grant]] = [(f"auth.relay_keys[{index}]", key) for index, key in enumerate(auth.relay_keys)]
    if auth.entra is not None:
        grants.append(("auth.entra", auth.entra))
    if auth.easy_auth is not None:
        grants.append(("auth.easy_auth", auth.easy_auth))
    return grants


def _alias_problems(where: str, aliases: Sequence[str], models: Mapping[str, Sequence[str]]) -> Problems:
    return [
        (f"{where}[{index}]", f"no model alias is named {alias!r}")
        for index, alias in enumerate(aliases)
        if alias != ANY_MODEL and alias not in models
    ]


def _profile_problems(where: str, profile: str, profiles: set[str]) -> Problems:
    if profile in profiles:
        return []
    return [(where, f"no profile is named {profile!r} in policy.profiles or quotas.profiles")]


def _duplicate_key_problems(auth: AuthSettings) -> Problems:
    problems: Problems = []
    names: set[str] = set()
    digests: set[str] = set()
    for index, key in enumerate(auth.relay_keys):
        if key.name in names:
            problems.append((f"auth.relay_keys[{index}].name", f"duplicate key name {key.name!r}"))
        if key.sha256 in digests:
            problems.append((f"auth.relay_keys[{index}].sha256", "the same key is configured twice"))
        names.add(key.name)
        digests.add(key.sha256)
    return problems


def _secret_problems(where: str, setting: str, environ: Mapping[str, str]) -> Problems:
    value = environ.get(setting)
    if not value:
        return [(where, f"app setting {setting!r} is not set")]
    if len(value) < MIN_SECRET_LENGTH:
        return [(where, f"app setting {setting!r} must hold at least {MIN_SECRET_LENGTH} characters")]
    return []
