"""The relay: provider adapters, the canonical stream, output dialects and routing."""
