"""Idempotency-Key (IETF draft) for POST and PATCH: one execution per (client, key), replayed after.

The record is written in the same transaction as the change, so a worker killed midway leaves
neither. A duplicate that arrives while the first is still in flight gets 409: on PostgreSQL a
transaction-scoped advisory lock refuses it at once; on SQLite, whose writers queue for the write lock
(IMMEDIATE transactions, svc_common.conf), it finds a record made after it arrived. Should two writes of
one key still meet at the record's unique constraint, the later one is a 409 too, never a 500.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_WELL_FORMED_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_flight"
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request."


def record_model():
    """The service's own record model, named by settings.IDEMPOTENCY_RECORD_MODEL ("app.Model")."""
    return apps.get_model(settings.IDEMPOTENCY_RECORD_MODEL)


def request_fingerprint(request) -> str:
    """What makes two requests "the same": method, path and the parsed body."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def caller_scope(request) -> str:
    """Keys are scoped per API client (named by the gateway), or per staff user."""
    client_id = getattr(request.user, "client_id", None)
    if client_id:
        return f"client:{client_id}"
    return f"user:{getattr(request.user, 'pk', None)}"


def _lock(scope: str, key: str) -> bool:
    """Try the transaction-scoped advisory lock for (scope, key); SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return True
    lock_id = int.from_bytes(hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def idempotent(view_method):
    """Decorate a DRF view method (create, partial_update) to honour Idempotency-Key."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not _WELL_FORMED_KEY.match(key):
            raise ValidationError({IDEMPOTENCY_HEADER: ["Use 1 to 255 printable ASCII characters."]})
        scope, fingerprint, model = caller_scope(request), request_fingerprint(request), record_model()
        arrived = timezone.now()
        with transaction.atomic():
            if not _lock(scope, key):
                raise KeyInFlight()
            oldest = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
            record = model.objects.filter(scope=scope, key=key).first()
            if record is not None and record.created_at < oldest:
                record.delete()
                record = None
            if record is not None:
                if record.created_at > arrived:
                    raise KeyInFlight()  # its first request was still in flight when this one arrived
                if record.fingerprint != fingerprint:
                    raise KeyReused()
                return Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})
            response = view_method(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                try:
                    with transaction.atomic():
                        model.objects.create(
                            scope=scope,
                            key=key,
                            fingerprint=fingerprint,
                            response_status=response.status_code,
                            response_body=response.data,
                        )
                except IntegrityError:
                    raise KeyInFlight() from None  # and the whole write rolls back with it
            return response

    return wrapper


def idempotency_records_prune() -> int:
    """Delete records older than the key lifetime; returns how many."""
    oldest = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _ = record_model().objects.filter(created_at__lt=oldest).delete()
    return deleted
