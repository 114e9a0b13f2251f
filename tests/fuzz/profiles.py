"""How much to fuzz: ``RELAY_FUZZ_PROFILE`` picks a profile, ``RELAY_FUZZ_EXAMPLES`` overrides its size.

* ``default`` (``make test``): :data:`DEFAULT_TOTAL` examples shared among
  the routes, drawn deterministically (``derandomize``) and without an
  example database, so CI runs the same requests every time, in about a
  minute on two cores; a new route thins the share rather than slowing the run.
* ``long`` (``make fuzz``): random draws, at least :data:`LONG_TOTAL`
  requests across every route and provider path.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings

LONG_TOTAL = 50_000
DEFAULT_TOTAL = 2_160


@dataclass(frozen=True)
class Profile:
    name: str
    examples_per_target: int
    derandomize: bool
    timeout_seconds: float | None

    def settings(self) -> settings:
        return settings(
            max_examples=self.examples_per_target,
            derandomize=self.derandomize,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
            # Failures are tallied, not raised, so there is nothing to shrink or explain; the explain
            # phase's line tracer would also slow every request several times over.
            phases=[Phase.explicit, Phase.generate],
        )


def current(targets: int) -> Profile:
    """The profile the environment asks for, sized for ``targets`` routes and provider paths."""
    name = os.environ.get("RELAY_FUZZ_PROFILE", "default")
    if name == "long":
        examples = math.ceil(LONG_TOTAL / targets)
        profile = Profile("long", examples, derandomize=False, timeout_seconds=None)
    elif name == "default":
        profile = Profile("default", math.ceil(DEFAULT_TOTAL / targets), derandomize=True, timeout_seconds=120)
    else:
        raise ValueError(f"RELAY_FUZZ_PROFILE must be 'default' or 'long', not {name!r}")
    override = os.environ.get("RELAY_FUZZ_EXAMPLES")
    if override:
        return Profile(profile.name, math.ceil(int(override) / targets), profile.derandomize, None)
    return profile
