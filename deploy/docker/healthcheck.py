"""Docker HEALTHCHECK: exit 0 when this container's gunicorn answers /healthz with 200."""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    # Host 127.0.0.1 is in every DJANGO_ALLOWED_HOSTS, as for HAProxy's own checks.
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback only)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
