"""svc_common.importing.fast_check against DRF's own run_validation, over the awkward values of each field."""

from rest_framework import serializers
from rest_framework.fields import SkipField

from svc_common.importing import RowChecker, fast_check

AWKWARD = [
    "", " ", "  x  ", "x", "é", "  é  ", "a\x00b", "a\ud800b", "\ud83d", "a\tb", "line\nbreak",
    *("x" * n for n in (63, 64, 65, 149, 150, 151, 199, 200, 201, 255)),
    5, 5.5, -1, 0, True, False, None, [], {},
    "0", "12", "12.5", "12.50", "12.555", "0.00", "-0", "-1", "+1", "1e3", "1E-2", "NaN", "Infinity", "-Infinity",
    "  7  ", "007", "0000000000001", "9999999999.99", "99999999999.99", "10000000000", "1.", ".5", "1,5",
    "１２", "١٢.٥", "12.5 ", " 12.5", "2147483647", "2147483648",
    "user_1", "user name", "ü_user", "a@b.c", "user@example.com", "USER@Example.COM", " user@example.com ",
    "bad@", "@bad", "x" * 240 + "@example.com",
]  # fmt: skip


def outcome(run, value):
    """(type, str) of what a check returns, or ("refused", its messages): a Decimal's str keeps its places."""
    try:
        result = run(value)
    except serializers.ValidationError as exc:
        return "refused", [str(message) for message in exc.detail]
    except SkipField:
        return "skipped", None
    return type(result).__name__, str(result)


def disagreements(spec) -> list[str]:
    """Every (field, value) where the fast path's outcome differs from DRF's; the fields it covers."""
    checker = RowChecker(spec)
    found, covered = [], []
    for name, checked in checker.fields.items():
        fast = fast_check(checked)
        if fast is None:
            continue
        covered.append(name)
        for value in AWKWARD:
            expected, actual = outcome(checked.run_validation, value), outcome(fast, value)
            if expected != actual:
                found.append(f"{name}={value!r}: DRF {expected}, fast {actual}")
    assert covered, "no field takes the fast path"
    return found


def memo_disagreements(spec, base: dict, field: str) -> list[str]:
    """RowChecker.check of `base` (a valid row) with each awkward value in `field`, twice (the second time
    from the values it remembered), against DRF's run_validation of that field and the spec's normaliser."""
    checker, reference = RowChecker(spec), RowChecker(spec).fields[field]
    # An empty cell of an optional column takes the field's default, where DRF would check "".
    values = [v for v in AWKWARD if reference.required or not (v is None or (isinstance(v, str) and v == ""))]
    found = []
    for _ in range(2):
        for value in values:
            result = checker.check({**base, field: value})
            expected = outcome(lambda v: spec.normalise({field: reference.run_validation(v)})[field], value)
            if isinstance(result, str):
                if expected[0] != "refused" or f"{field}: " not in result:
                    found.append(f"{field}={value!r}: DRF {expected}, the checker refused: {result}")
            elif field in result and (type(result[field]).__name__, str(result[field])) != expected:
                found.append(f"{field}={value!r}: DRF {expected}, the checker {result[field]!r}")
            elif field not in result and expected[0] != "skipped":
                found.append(f"{field}={value!r}: DRF {expected}, the checker left it out")
    return found
