"""Accounts in a running stack's databases: staff made by each project's own `createsuperuser`, and people (gateway
users who are not staff) made with Django's create_user, through `manage.py shell`."""

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

service, *arguments = sys.argv[1:]
databases.manage(SERVICES[service], StackState.load().database, *arguments)
"""
_CREATE_USER = (
    "import os; from django.contrib.auth import get_user_model; "
    "get_user_model().objects.create_user(os.environ['NEW_USERNAME'], password=os.environ['NEW_PASSWORD'])"
)


def _manage(stack, service: str, *arguments: str, env: dict) -> None:
    subprocess.run(
        [sys.executable, "-c", _MANAGE, service, *arguments],
        env={**stack.env, "PYTHONPATH": str(ROOT / "deploy"), **env},
        check=True,
        capture_output=True,
        timeout=120,
    )


def create_superuser(stack, service: str) -> tuple[str, str]:
    """(username, password) of a new superuser of users, products or gateway."""
    username = f"staff-{service}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(18)
    arguments = ("createsuperuser", "--noinput", "--username", username, "--email", f"{username}@example.com")
    _manage(stack, service, *arguments, env={"DJANGO_SUPERUSER_PASSWORD": password})
    return username, password


def create_person(stack, prefix: str = "person") -> tuple[str, str]:
    """(username, password) of a new gateway user who is not staff: someone who logs in to use the API."""
    username = f"{prefix}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(18)
    _manage(stack, "gateway", "shell", "-c", _CREATE_USER, env={"NEW_USERNAME": username, "NEW_PASSWORD": password})
    return username, password
