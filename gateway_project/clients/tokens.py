"""Token format and hashing: 40 random URL-safe characters; SHA-256 is what the database keeps."""

import hashlib
import re
import secrets

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{40}$")


def token_generate() -> str:
    return secrets.token_urlsafe(30)


def token_hash(key: str) -> str:
    # Tokens carry 240 random bits, so a fast hash is safe here (unlike passwords).
    return hashlib.sha256(key.encode()).hexdigest()


def is_well_formed(key: str) -> bool:
    return bool(TOKEN_PATTERN.match(key))
