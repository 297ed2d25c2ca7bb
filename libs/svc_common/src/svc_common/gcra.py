"""GCRA rate limiting in Redis, written once (gcra.lua): its functions, prepended to each script that meters."""

from pathlib import Path

FUNCTIONS = Path(__file__).with_name("gcra.lua").read_text()


def with_gcra(script: str) -> str:
    """A Lua script that calls gcra_take, gcra_give_back or expire_at, with their definitions before it."""
    return f"{FUNCTIONS}\n{script}"
