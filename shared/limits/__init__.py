"""Per-client rate limits and token budgets, in memory or in Azure Table Storage."""

from .limiter import Limiter, Ticket
from .settings import Quota, QuotaSettings

__all__ = ["Limiter", "Quota", "QuotaSettings", "Ticket"]
