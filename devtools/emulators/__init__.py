"""Local, wire-faithful emulators of the upstream LLM providers.

Each emulator is an ASGI app served on 127.0.0.1. They share the scenario
language in :mod:`devtools.emulators.scenario` and the request log in
:mod:`devtools.emulators.recorder`.
"""
