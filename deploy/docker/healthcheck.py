"""Container health check: exit 0 when this container's gunicorn answers 200 on a path, /healthz by default.

python healthcheck.py            # alive: the image's HEALTHCHECK (a dead process, not a dead database)
python healthcheck.py /readyz    # ready: Compose's healthcheck, which depends_on waits for
"""

import os
import sys
import urllib.error
import urllib.request

PROBES = ("/healthz", "/readyz")


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "/healthz"
    if path not in PROBES:
        print(f"healthcheck: expected one of {', '.join(PROBES)}, not {path!r}", file=sys.stderr)
        return 2
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    # Host 127.0.0.1 is in every DJANGO_ALLOWED_HOSTS, as for HAProxy's own checks.
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback only)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
