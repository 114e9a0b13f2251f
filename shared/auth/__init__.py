"""Client authentication: relay keys, Entra ID tokens, App Service principals and browser tokens."""

from .gate import Gate
from .identity import ANONYMOUS, Identity

__all__ = ["ANONYMOUS", "Gate", "Identity"]
