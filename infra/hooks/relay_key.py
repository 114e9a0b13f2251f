"""azd preprovision hook: give a new environment a relay key, keeping only its digest.

On the first ``azd provision`` of an environment this mints a relay key,
stores its SHA-256 with ``azd env set RELAY_KEY_SHA256`` (the template puts
the digest into ``RELAY_CONFIG``) and prints the key once; it is written
nowhere. Later runs find the digest and do nothing, so re-provisioning keeps
the key. Stdlib only: it runs on the deploying machine, outside the app's
virtual environment. The key format is the one ``python -m shared.auth.cli
mint-key`` produces; a test holds the two together.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

DIGEST_SETTING = "RELAY_KEY_SHA256"
KEY_PREFIX = "rk-"

Runner = Callable[[Sequence[str]], None]


def main(environ: Mapping[str, str], run: Runner, out: TextIO) -> int:
    """Mint and record a key unless the environment already has a digest."""
    if environ.get(DIGEST_SETTING, "").strip():
        print(f"relay key: {DIGEST_SETTING} is set in this azd environment; keeping the existing key", file=out)
        return 0
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    run(["azd", "env", "set", DIGEST_SETTING, hashlib.sha256(key.encode()).hexdigest()])
    print("relay key (shown once; store it now, only its SHA-256 is kept):", file=out)
    print(f"  {key}", file=out)
    print("send it as 'Authorization: Bearer <key>' or 'api-key: <key>'; README \"Deploying\" says how to rotate it",
          file=out)
    return 0


def _azd(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True)


if __name__ == "__main__":
    sys.exit(main(os.environ, _azd, sys.stdout))
