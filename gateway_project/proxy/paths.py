"""Normalise a proxied path so that nothing but the service's own API can be reached."""

import re
from urllib.parse import quote

from access.routes import has_encoded_separator

from .exceptions import UnsafePath

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$")


def upstream_path(service: str, rest: str, raw_path: str) -> str:
    """`/api/<service>/<rest>` with every segment checked: no dot, empty or encoded-slash segments."""
    if has_encoded_separator(raw_path.split("?", 1)[0]):
        raise UnsafePath("Encoded separators are not allowed in the path.")
    segments = rest.split("/") if rest else []
    if segments and segments[-1] == "":
        segments.pop()  # a trailing slash
    for segment in segments:
        if not _SAFE_SEGMENT.match(segment):
            raise UnsafePath(f"Path segment {segment[:40]!r} is not allowed.")
    return "/".join([f"/api/{service}", *(quote(segment, safe="") for segment in segments)]) + "/"
