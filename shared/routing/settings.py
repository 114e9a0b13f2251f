"""The ``routing`` section of the configuration: how hard the relay tries, and how it judges backends.

Every field has a default chosen for Azure OpenAI pay-as-you-go deployments, so
a document without a ``routing`` section routes sensibly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FailoverSettings(_Section):
    """Bounds on trying backend after backend for one request, before any byte is sent."""

    max_attempts: int = Field(default=3, ge=1, le=20, description="Backends tried per request at most.")
    budget_seconds: float = Field(default=30, gt=0, description="Total time spent opening upstreams for one request.")
    attempt_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Longest wait for one backend's response headers before the next backend is tried.",
    )


class CooldownSettings(_Section):
    """How long a rate-limited backend is left alone."""

    default_seconds: float = Field(default=10, ge=0, description="Cooldown after a 429 that gives no hint.")
    max_seconds: float = Field(default=300, gt=0, description="Longest cooldown, whatever the upstream asks.")

    @model_validator(mode="after")
    def _default_within_max(self) -> CooldownSettings:
        if self.default_seconds > self.max_seconds:
            raise ValueError("default_seconds must not exceed max_seconds")
        return self


class BreakerSettings(_Section):
    """The circuit breaker that rests a backend after consecutive failures."""

    failure_threshold: int = Field(default=5, ge=1, description="Consecutive failures that open the circuit.")
    open_seconds: float = Field(default=30, gt=0, description="How long an open circuit rests before a probe.")


class HeadroomSettings(_Section):
    """When a backend's own rate-limit counters say it is nearly exhausted."""

    reserve_requests: int = Field(
        default=1, ge=0, description="Avoid a backend whose remaining requests are at or below this."
    )
    reserve_tokens: int = Field(
        default=1000, ge=0, description="Avoid a backend whose remaining tokens are at or below this."
    )
    max_age_seconds: float = Field(
        default=10, gt=0, description="How long a counter reading is trusted (less if the upstream says it resets)."
    )


class RoutingSettings(_Section):
    """Failover, cooldown, circuit breaker and headroom, for every model alias."""

    failover: FailoverSettings = FailoverSettings()
    cooldown: CooldownSettings = CooldownSettings()
    breaker: BreakerSettings = BreakerSettings()
    headroom: HeadroomSettings = HeadroomSettings()
