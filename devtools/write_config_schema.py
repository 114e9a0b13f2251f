"""Regenerate ``relay.schema.json`` from the configuration models: ``python -m devtools.write_config_schema``."""

from __future__ import annotations

import json

from shared.config import json_schema

from .local_host import APP_ROOT

SCHEMA_PATH = APP_ROOT / "relay.schema.json"


def render() -> str:
    """The schema file's exact text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
