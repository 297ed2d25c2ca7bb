"""HAProxy holds every allowed request whole before a replica sees it (option http-buffer-request), within a memory
bound: its buffer fits the largest body the services accept, and all its buffers fit its container."""

import re

import deploy_checks as checks
from deploy_checks import COMPOSE_DIR, COMPOSE_FILE, ROOT

TEMPLATE = (ROOT / "haproxy" / "haproxy.cfg.template").read_text()
# A request's headers, generously: gunicorn accepts a 4094-byte request line and 8190-byte fields.
HEADER_ROOM = 16 * 1024
MEBIBYTE = 1024 * 1024


def tune(name: str) -> int:
    return int(re.search(rf"^\s+tune\.{re.escape(name)} (\d+)$", TEMPLATE, re.MULTILINE).group(1))


def body_caps() -> set[int]:
    """MAX_REQUEST_BODY_BYTES wherever it is set, and the settings' default."""
    base = (ROOT / "libs" / "svc_common" / "src" / "svc_common" / "settings" / "base.py").read_text()
    default = eval(re.search(r'env\.int\("MAX_REQUEST_BODY_BYTES", default=([\d *]+)\)', base).group(1))  # noqa: S307
    compose = checks.parse_env_file(COMPOSE_DIR / ".env.example")["MAX_REQUEST_BODY_BYTES"]
    k8s = checks.by_kind(checks.k8s_resources(), "ConfigMap")["scaling-config"]["data"]["MAX_REQUEST_BODY_BYTES"]
    return {default, int(compose), int(k8s)}


def memory_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|M|Gi|G)", value).groups()
    return int(number) * {"Mi": MEBIBYTE, "M": 1000**2, "Gi": 1024 * MEBIBYTE, "G": 1000**3}[unit]


def test_every_request_body_the_services_accept_fits_haproxys_buffer_with_its_headers():
    assert "option http-buffer-request" in TEMPLATE
    assert tune("bufsize") >= max(body_caps()) + HEADER_ROOM


def test_all_of_haproxys_buffers_fit_well_inside_its_container():
    buffers = tune("bufsize") * tune("buffers.limit")
    k8s = checks.by_kind(checks.k8s_resources(), "Deployment")["haproxy"]["spec"]["template"]["spec"]["containers"][0]
    compose = checks.merge_compose(COMPOSE_FILE)["services"]["haproxy"]["deploy"]["resources"]["limits"]

    for limit in (k8s["resources"]["limits"]["memory"], compose["memory"]):
        assert buffers <= 0.75 * memory_bytes(limit), limit
