"""Safe defaults: a secret left from compose/.env.example (or deploy/k8s/secret.example.yaml) is refused at start
while DJANGO_DEBUG is off, with one line naming the variable; compose/make_env.py writes secrets that start."""

import re
import subprocess
import sys

import deploy_checks as checks
import pytest
from deploy_checks import COMPOSE_DIR, COMPOSE_FILE, PROJECTS, ROOT

SECRETS = ("DJANGO_SECRET_KEY", "SERVICE_AUTH_TOKEN", "DATABASE_URL", "REDIS_URL")


def container_env(values: dict[str, str], service: str) -> dict[str, str]:
    """What Compose gives a service's container: the env file's values, then its `environment` interpolated from
    them (the same file is the --env-file)."""
    environment = checks.merge_compose(COMPOSE_FILE)["services"][service]["environment"]
    interpolated = {
        name: re.sub(r"\$\{(\w+)\}", lambda match: values[match.group(1)], str(value))
        for name, value in environment.items()
    }
    return {**values, **interpolated}


def check(service: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """manage.py check with a container's environment (prometheus_client's directory is the container's own)."""
    env = {name: value for name, value in env.items() if name != "PROMETHEUS_MULTIPROC_DIR"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT / PROJECTS[service],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# The gateway, and a service (users and products share their settings module).
@pytest.mark.parametrize("service", ["gateway", "users"])
@pytest.mark.parametrize("variable", SECRETS)
def test_a_secret_left_from_the_example_file_is_refused_at_start_naming_it(service, variable):
    example = container_env(checks.parse_env_file(COMPOSE_DIR / ".env.example"), service)
    env = container_env(checks.compose_env_with_fresh_secrets(), service)
    env[variable] = example[variable]  # the one secret the operator forgot

    result = check(service, env)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: {variable} holds the example file's placeholder;"
        " set a secret of your own (docs/deploy.md)."
    )


@pytest.mark.parametrize("service", list(PROJECTS))
def test_the_secrets_make_env_writes_start(service):
    env = container_env(checks.compose_env_with_fresh_secrets(), service)

    result = check(service, env)

    assert result.returncode == 0, result.stderr
    assert [name for name in SECRETS if "replace-me" in env[name]] == []


def test_with_debug_on_the_example_secrets_still_start_a_local_experiment():
    env = container_env(checks.parse_env_file(COMPOSE_DIR / ".env.example"), "users")

    assert check("users", {**env, "DJANGO_DEBUG": "true"}).returncode == 0


def test_every_secret_of_the_kubernetes_template_is_a_placeholder_that_would_be_refused():
    template = checks.secret_template()["stringData"]

    placeholders = {key for key, value in template.items() if "REPLACE-ME" in value}

    assert placeholders == {key for key in template if key not in ("service-auth-previous-tokens", "postgres-user")}
