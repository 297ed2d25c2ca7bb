"""Redis as Compose and Kubernetes run it: the same script in both, run here for real on a private port. Every
client authenticates as its role's ACL user, which may touch only its own keys; eviction never drops rate-limit
state, token records or invalidation counters."""

import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import deploy_checks as checks
import pytest
import redis
from deploy_checks import COMPOSE_DIR, COMPOSE_FILE, ROOT

from svc_common.gcra import script_text, with_gcra

ROLES = ("gateway", "users", "products")
ACCESS_LUA = with_gcra((ROOT / "gateway_project" / "access" / "access.lua").read_text())


def compose_script() -> str:
    command = checks.merge_compose(COMPOSE_FILE)["services"]["redis"]["command"]
    return command[2].replace("$$", "$")  # Compose's escape for a literal $


def k8s_script() -> str:
    statefulset = checks.by_kind(checks.k8s_resources(), "StatefulSet")["redis"]
    return statefulset["spec"]["template"]["spec"]["containers"][0]["command"][2]


def config_lines(script: str) -> list[str]:
    return [line.strip() for line in script.split("<<EOF", 1)[1].split("EOF", 1)[0].splitlines() if line.strip()]


class PrivateRedis:
    """The deployment's script, run by `sh -c` with redis-server on a free loopback port."""

    def __init__(self, directory: Path, *extra: str):
        from support.redis_server import free_port

        self.port = free_port()
        self.passwords = {role: secrets.token_hex(16) for role in ROLES}
        env = {**os.environ, **{f"REDIS_{role.upper()}_PASSWORD": pw for role, pw in self.passwords.items()}}
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory), *extra]
        self.process = subprocess.Popen(
            ["sh", "-c", compose_script(), "redis", *arguments],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)

    def client(self, role: str | None = None) -> redis.Redis:
        if role is None:
            return redis.Redis(port=self.port, socket_timeout=2)
        return redis.Redis(port=self.port, username=role, password=self.passwords[role], socket_timeout=2)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


def test_compose_and_kubernetes_run_the_same_redis_script():
    assert compose_script() == k8s_script()


def test_eviction_spares_keys_without_a_ttl():
    assert "maxmemory-policy volatile-lfu" in config_lines(compose_script())


def test_every_application_connects_as_its_own_acl_user():
    compose = checks.merge_compose(COMPOSE_FILE)
    secret = checks.secret_template()["stringData"]

    for name, service in checks.compose_app_services(compose).items():
        env, _ = checks.compose_environment(service, COMPOSE_DIR)
        role = env["SERVICE"]
        assert env["REDIS_URL"].startswith(f"redis://{role}:"), name
    for role in ROLES:
        assert secret[f"{role}-redis-url"] == f"redis://{role}:REPLACE-ME@redis:6379/0"
    for resource in checks.k8s_resources():
        if resource["kind"] not in ("Deployment", "Job") or resource["metadata"]["name"] in ("haproxy",):
            continue
        spec = resource["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            env = {item["name"]: item for item in container.get("env", [])}
            tier = env["SERVICE"]["value"]
            assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"]["key"] == f"{tier}-redis-url"


# The script run for real: the attacks of docs/security.md's Redis section.


def test_without_credentials_redis_answers_only_ping(private_redis):
    anonymous = private_redis.client()

    assert anonymous.ping() is True
    for attack in (
        lambda: anonymous.hset("gw:token:" + "0" * 64, mapping={"client": 1, "expires_ms": 2**53}),
        lambda: anonymous.get("inv:users:1"),
        lambda: anonymous.flushall(),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attack()


def test_a_service_cannot_mint_a_gateway_token_nor_touch_another_services_keys(private_redis):
    users = private_redis.client("users")

    users.set("svc:users:v1:1", "cached")
    users.incr("inv:users:1")
    for attack in (
        lambda: users.hset("gw:token:" + "0" * 64, mapping={"client": 1, "verified_until": 2**53}),
        lambda: users.set("gw:rl:read:c1", 0),
        lambda: users.incr("inv:products:1"),
        lambda: users.get("svc:products:v1:1"),
        lambda: users.config_set("maxmemory-policy", "allkeys-lru"),
        lambda: users.keys("*"),
        lambda: users.flushdb(),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attack()


def test_the_gateway_reads_invalidation_counters_but_cannot_poison_a_services_objects(private_redis):
    private_redis.client("products").incr("inv:products:7")
    gateway = private_redis.client("gateway")

    assert gateway.get("inv:products:7") == b"1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        gateway.set("svc:products:v1:7", "poisoned")


def test_the_gateways_access_script_runs_as_its_user(private_redis):
    private_redis.client("users").incr("inv:users:1")
    access = private_redis.client("gateway").register_script(ACCESS_LUA)

    unknown = _access(access, token_key="gw:token:" + "1" * 64)
    anonymous = access(keys=["", "gw:rl:auth:ip:192.0.2.1", "gw:expiry", "", ""], args=["auth", 10, 60_000, *ARGS[3:]])

    assert unknown[0] == b"miss"  # an unknown token: the address paid a step and a ticket was left
    assert anonymous[:3] == [b"ok", b"", 10]  # token creation: the address's step, nothing cached


def test_the_gateways_login_throttle_runs_as_its_user(private_redis):
    throttle = private_redis.client("gateway").register_script(script_text("login_throttle"))

    keys = ["", "login:gateway:user:abc", "login:gateway:expiry"]  # the token endpoint: the username only
    assert throttle(keys=keys, args=["take", 10, 60_000]) == [1, 0]


def test_each_services_login_throttle_runs_as_its_user(private_redis):
    for role in ("users", "products"):
        throttle = private_redis.client(role).register_script(script_text("login_throttle"))
        keys = [f"login:{role}:ip:192.0.2.1", f"login:{role}:user:abc", f"login:{role}:expiry"]

        assert throttle(keys=keys, args=["take", 10, 60_000]) == [1, 0]


def test_a_flood_of_pages_never_evicts_rate_state_token_records_or_counters(tmp_path):
    """The attack: fill memory with pages until Redis evicts. Before volatile-lfu (allkeys-lru), eviction reset a
    client's limit and an invalidation counter, so an old page matched again."""
    server = PrivateRedis(tmp_path, "--maxmemory", "4mb")
    try:
        gateway, users = server.client("gateway"), server.client("users")
        access = gateway.register_script(ACCESS_LUA)
        record = "gw:token:" + "2" * 64
        gateway.hset(
            record,
            mapping={"client": 7, "limit": 2, "period_ms": 60_000, "unlimited": 0, "expires_ms": 2**53},
        )
        gateway.hset(record, "verified_until", 2**53)
        users.incr("inv:users:1")
        statuses = [_access(access, token_key=record)[0] for _ in range(3)]
        pages = [f"gw:page:{n:08d}" for n in range(2000)]
        for page in pages:
            gateway.set(page, "x" * 4096, ex=300)

        remaining_pages = gateway.exists(*pages)
        after_flood = _access(access, token_key=record)[0]

        assert statuses == [b"ok", b"ok", b"limited"]
        assert remaining_pages < len(pages)  # the flood reached eviction
        assert after_flood == b"limited"  # the client's rate state survived it
        assert gateway.hget(record, "client") == b"7"
        assert gateway.get("inv:users:1") == b"1"
    finally:
        server.stop()


# access.lua's ARGV for a read: its limits, the "auth" limits, the lock's ttl, a unique value, the ticket's life,
# "1": a token's record, one invalidation counter after the page's lock, no grace (the database is up), how long a
# verification holds back the token's other requests, and "0": this request has not waited for one.
ARGS = ["read", 600, 60_000, 10, 60_000, 3000, "unique-1", 10_000, 1, 1, 0, 2000, 0]


def _access(script, *, token_key: str) -> list:
    """One access step for a token: a read of a page guarded by inv:users:1."""
    keys = [token_key, "gw:rl:auth:ip:192.0.2.1", "gw:expiry", "gw:page:p", "gw:fill:p", "inv:users:1"]
    return script(keys=keys, args=ARGS)


def test_the_example_files_name_every_password_the_script_reads():
    names = set(re.findall(r"\$\{(REDIS_[A-Z]+_PASSWORD):\?\}", compose_script()))
    example = checks.parse_env_file(COMPOSE_DIR / ".env.example")
    statefulset = checks.by_kind(checks.k8s_resources(), "StatefulSet")["redis"]
    k8s_env = {item["name"] for item in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert names == {f"REDIS_{role.upper()}_PASSWORD" for role in ROLES}
    assert names <= set(example) and names == k8s_env
