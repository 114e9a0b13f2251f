"""Request policy: which parameters, sizes and prompts a client's requests may have."""

from .enforce import Policy, enforce, resolve
from .settings import PolicySettings, Rules

__all__ = ["Policy", "PolicySettings", "Rules", "enforce", "resolve"]
