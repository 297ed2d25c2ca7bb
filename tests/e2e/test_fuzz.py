"""Schemathesis against the live stack, from each API's own OpenAPI schema: no input makes a server error.

One bounded, seeded run per API (the gateway, and each service called as the gateway calls it). Every run
checks the responses too: documented status codes, content types, headers and bodies that match the schema.
Writes go only to objects the run itself created (fuzz_hooks.py), so the seeded data other tests read survives.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

SEED = 20261128
MAX_EXAMPLES = 20
RUN_TIMEOUT_SECONDS = 110
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
    ]
)
# Revoking the fuzzer's own token mid-run would turn the rest of the run into 401s: tests/gateway covers it.
EXCLUDED_OPERATIONS = {"gateway": ["token_revoke"], "users": [], "products": []}
SCHEMATHESIS = Path(sys.executable).with_name("st")
HOOKS_DIR = Path(__file__).parent


def schemathesis_command(schema_url: str, base_url: str, headers: dict, excluded_operations: list[str]) -> list[str]:
    """One worker per run: CPython 3.11's ast.parse, which Hypothesis calls to describe its strategies, is not
    thread-safe ("AST constructor recursion depth mismatch"). The three runs go in parallel processes instead."""
    return [
        str(SCHEMATHESIS), "run", schema_url,
        "--url", base_url,
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--request-timeout", "10",
        "--generation-database", "none",
        "--no-color",
        *(option for operation in excluded_operations for option in ("--exclude-operation-id", operation)),
        *(option for name, value in headers.items() for option in ("--header", f"{name}: {value}")),
    ]  # fmt: skip


def run_in_parallel(commands: dict[str, list[str]], tmp_path: Path) -> dict[str, tuple[int, str]]:
    """{name: (exit code, output)}; every run is killed at RUN_TIMEOUT_SECONDS."""
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(HOOKS_DIR)}
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in commands}
    processes = {
        # Outside the repository: schemathesis keeps a .schemathesis/ cache in its working directory.
        name: subprocess.Popen(command, stdout=logs[name], stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
        for name, command in commands.items()
    }
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    results = {}
    for name, process in processes.items():
        try:
            code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        logs[name].seek(0)
        results[name] = (code, logs[name].read())
        logs[name].close()
    return results


def generated_cases(output: str) -> int:
    match = re.search(r"^\s*(\d+) generated", output, re.MULTILINE)
    return int(match.group(1)) if match else 0


@pytest.fixture(scope="module")
def fuzz_runs(stack, tmp_path_factory):
    """All three runs at once; the fuzzer's own unlimited token keeps its failures off other tests' clients."""
    token = stack.token("fuzz-client")
    commands = {
        "gateway": schemathesis_command(
            f"{stack.url('gateway')}/schema/", stack.url("gateway"), {"Authorization": f"Token {token}"},
            EXCLUDED_OPERATIONS["gateway"],
        ),
        **{
            service: schemathesis_command(
                f"{stack.url(service)}/api/schema/", stack.url(service), stack.service_headers(),
                EXCLUDED_OPERATIONS[service],
            )
            for service in ("users", "products")
        },
    }  # fmt: skip
    results = run_in_parallel(commands, tmp_path_factory.mktemp("fuzz"))
    forget_failed_logins(stack)
    return results


def forget_failed_logins(stack) -> None:
    """The fuzzer's wrong passwords and tokens spent the per-address "auth" budget: give it back."""
    connection = redis.Redis.from_url(stack.env["REDIS_URL"])
    keys = list(connection.scan_iter("gw:rl:auth:*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.mark.parametrize("api", ["gateway", "users", "products"])
def test_fuzzing_the_schema_finds_no_server_error_and_no_nonconforming_response(fuzz_runs, api):
    code, output = fuzz_runs[api]

    assert code == 0, output[-20000:]
    assert "ST101" not in output
    assert generated_cases(output) >= 100, output[-5000:]
