"""Staff accounts in a running stack's databases, made by each project's own `createsuperuser`."""

import secrets
import subprocess
import sys

from support.stack import ROOT

# Runs manage.py the way stackctl runs it for the replicas: same settings, database URL and secrets.
_MANAGE = """
import sys
from stackctl import databases
from stackctl.config import SERVICES
from stackctl.state import StackState

service, username = sys.argv[1:3]
databases.manage(SERVICES[service], StackState.load().database, "createsuperuser", "--noinput",
                 "--username", username, "--email", f"{username}@example.com")
"""


def create_superuser(stack, service: str) -> tuple[str, str]:
    """(username, password) of a new superuser of users, products or gateway."""
    username = f"staff-{service}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(18)
    subprocess.run(
        [sys.executable, "-c", _MANAGE, service, username],
        env={**stack.env, "PYTHONPATH": str(ROOT / "deploy"), "DJANGO_SUPERUSER_PASSWORD": password},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return username, password
