"""Wait for a condition by polling it, never by sleeping and hoping."""

import time


def poll(predicate, *, timeout: float, what: str):
    """Call predicate until it returns something truthy; fail naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
