"""HAProxy's own error pages (haproxy/errors/*.http): JSON in the one error shape, with a length that matches.

The e2e suite fetches them live: the 503 past capacity (test_load_balancing), the 504 past the server
timeout and the 502 of an unkeyed POST whose replica died (test_faults).
"""

import json

import pytest
from deploy_checks import ROOT

PAGES = sorted((ROOT / "haproxy" / "errors").glob("*.http"))


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_error_page_is_json_in_the_error_shape_with_its_exact_length(page):
    head, _, body = page.read_bytes().partition(b"\r\n\r\n")
    if not body:
        head, _, body = page.read_bytes().partition(b"\n\n")
    status_line, *header_lines = head.decode().splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)

    assert status_line.split()[1] == page.stem
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert sorted(json.loads(body)["error"]) == ["code", "detail", "message"]


def test_the_503_page_says_when_to_retry():
    head = (ROOT / "haproxy" / "errors" / "503.http").read_text().split("\n\n")[0]

    assert "Retry-After: 1" in head.splitlines()
