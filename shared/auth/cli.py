"""Operator commands for relay credentials: ``python -m shared.auth.cli <command>``.

* ``mint-key --name ci --models azure,gpt-4o`` prints a new relay key once,
  and the ``auth.relay_keys`` entry (its SHA-256 digest) to paste into the
  configuration. The key itself is stored nowhere.
* ``hash-key`` reads an existing key on stdin and prints its entry.
* ``new-secret`` prints a random signing secret for browser tokens.
* ``mint-token --subject kiosk-1 --models azure --max-tokens 512`` prints a
  browser token signed with the secret in ``--secret-setting`` (an
  environment variable), for pages served without a minting backend.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from typing import TextIO

from .browser_tokens import BrowserTokens
from .relay_keys import config_entry, mint_key


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    """Run one command; returns the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "mint-key":
        key = mint_key()
        print(f"key (shown once; give it to the client): {key}", file=out)
        print(f"auth.relay_keys entry: {config_entry(args.name, key, _aliases(args.models), args.profile)}", file=out)
    elif args.command == "hash-key":
        key = (stdin or sys.stdin).readline().strip()
        if not key:
            print("no key on stdin", file=sys.stderr)
            return 2
        print(config_entry(args.name, key, _aliases(args.models), args.profile), file=out)
    elif args.command == "new-secret":
        print(secrets.token_urlsafe(48), file=out)
    else:
        return _mint_token(args, out)
    return 0


def _mint_token(args: argparse.Namespace, out: TextIO) -> int:
    secret = os.environ.get(args.secret_setting, "")
    if len(secret) < 32:
        print(f"environment variable {args.secret_setting} must hold the signing secret (32+ chars)", file=sys.stderr)
        return 2
    if args.max_tokens < 1 or args.ttl_minutes < 1:
        print("--max-tokens and --ttl-minutes must be at least 1: the relay refuses any other token", file=sys.stderr)
        return 2
    tokens = BrowserTokens(secret, max_ttl_seconds=args.ttl_minutes * 60)
    claims = tokens.claims(args.subject, _aliases(args.models), args.max_tokens, args.ttl_minutes * 60)
    print(tokens.mint(claims), file=out)
    return 0


def _aliases(text: str) -> list[str]:
    return [alias.strip() for alias in text.split(",") if alias.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared.auth.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("mint-key", "hash-key"):
        command = commands.add_parser(name)
        command.add_argument("--name", required=True, help="the key's name, shown in logs and used for quotas")
        command.add_argument("--models", default="*", help="comma-separated aliases, or * for every alias")
        command.add_argument("--profile", default="default", help="the policy and quota profile")
    commands.add_parser("new-secret")
    token = commands.add_parser("mint-token")
    token.add_argument("--subject", required=True, help="who the token is for; its quota identity")
    token.add_argument("--models", required=True, help="comma-separated aliases, or * for every alias")
    token.add_argument("--max-tokens", type=int, required=True, help="the token's max_tokens ceiling")
    token.add_argument("--ttl-minutes", type=int, default=15, help="lifetime in minutes")
    token.add_argument("--secret-setting", default="RELAY_TOKEN_SECRET", help="variable holding the secret")
    return parser


if __name__ == "__main__":
    sys.exit(main())
