"""Developer tooling: the local Functions host, provider emulators and helpers for tests."""
