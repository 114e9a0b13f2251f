"""Output dialects: each turns the canonical event stream into bytes for clients."""
