"""Write compose/.env: compose/.env.example with every demo secret replaced by a fresh random one.

    python3 compose/make_env.py          # once, before the first `docker compose ... up`

The example's secrets (every value containing "replace-me") are refused at start when DJANGO_DEBUG is off
(svc_common.conf), so forgetting compose/.env ships nothing. Hex secrets: safe inside the URLs built from them.
Refuses to overwrite an existing compose/.env.
"""

import re
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / ".env.example"
TARGET = HERE / ".env"
PLACEHOLDER = re.compile(r"^([A-Z0-9_]+)=(.*replace-me.*)$", re.IGNORECASE | re.MULTILINE)


def with_fresh_secrets(example: str) -> str:
    return PLACEHOLDER.sub(lambda match: f"{match.group(1)}={secrets.token_hex(32)}", example)


def main(target: Path = TARGET) -> int:
    if target.exists():
        print(f"{target} exists; delete it first to make a new one", file=sys.stderr)
        return 1
    target.touch(mode=0o600)
    target.write_text(with_fresh_secrets(EXAMPLE.read_text()))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
