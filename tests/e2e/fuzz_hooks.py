"""Schemathesis hooks for test_fuzz.py (SCHEMATHESIS_HOOKS=fuzz_hooks): fuzzed writes touch only what the run made.

The e2e stack is shared by the whole session and later tests read the seeded users and products by id, so a
PUT, PATCH or DELETE aimed at an object this run did not create goes to an id that does not exist instead:
it still exercises routing, validation and the 404 path. Objects the run created (201s) are fair game.
"""

import re
import threading

import schemathesis

MISSING_ID = "999999999999999999"
WRITES = frozenset({"PUT", "PATCH", "DELETE"})
_COLLECTION = re.compile(r"^/api/(users|products)/")

_created: dict[str, set[int]] = {"users": set(), "products": set()}
_lock = threading.Lock()


def _collection(case) -> str | None:
    match = _COLLECTION.match(case.operation.path)
    return match.group(1) if match else None


@schemathesis.hook
def before_call(context, case, kwargs):
    collection = _collection(case)
    object_id = str((case.path_parameters or {}).get("id", ""))
    if case.method.upper() not in WRITES or collection is None or not (object_id.isascii() and object_id.isdigit()):
        return
    with _lock:
        mine = int(object_id) in _created[collection]
    if not mine:
        case.path_parameters["id"] = MISSING_ID


@schemathesis.hook
def after_call(context, case, response):
    collection = _collection(case)
    if case.method.upper() != "POST" or collection is None or response.status_code != 201:
        return
    object_id = response.json().get("id")
    if isinstance(object_id, int):
        with _lock:
            _created[collection].add(object_id)
