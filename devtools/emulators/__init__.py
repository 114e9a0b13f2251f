"""Local, wire-faithful emulators of the upstream LLM providers.

Each emulator is an ASGI app served on 127.0.0.1 that implements the
:class:`~devtools.emulators.emulator.Emulator` protocol. They share the
scenario language in :mod:`devtools.emulators.scenario`, the request log in
:mod:`devtools.emulators.recorder` and the command line in
:mod:`devtools.emulators.cli`.
"""
