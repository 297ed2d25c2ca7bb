"""The gateway's cached token records in Redis, as the tests age them."""


def verified_seconds_ago(redis, seconds: int) -> int:
    """Date every token record's last verification back by `seconds` (Redis's clock), as if its
    TOKEN_RECORD_TTL_SECONDS had run out then; returns how many records there were."""
    now_s, now_us = redis.time()
    keys = list(redis.scan_iter("gw:token:*"))
    for key in keys:
        redis.hset(key, "verified_until", now_s * 1000 + now_us // 1000 - seconds * 1000)
    return len(keys)
