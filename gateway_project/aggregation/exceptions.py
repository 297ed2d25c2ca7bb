"""Errors of the aggregated endpoint."""

from rest_framework import status
from rest_framework.exceptions import APIException, NotFound


class InvalidIdentifier(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_id"
    default_detail = "Identifiers must be positive integers."


class PartsNotFound(NotFound):
    """404 that says which of the aggregated parts is missing."""

    def __init__(self, missing: dict[str, int]):
        parts = " and ".join(f"{name.capitalize()} {value}" for name, value in missing.items())
        verb = "does" if len(missing) == 1 else "do"
        super().__init__(f"{parts} {verb} not exist.")
        self.extra_detail = {f"{name}_id": value for name, value in missing.items()}
