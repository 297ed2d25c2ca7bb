"""Idempotency-Key (IETF draft) for POST and PATCH: one execution per (client, key), replayed after.

The record is written in the same transaction as the change, so a worker killed midway leaves
neither. A duplicate that arrives while the first is still in flight waits for it, then replays its
answer (or runs, if the first failed or died): on PostgreSQL it waits for a transaction-scoped advisory
lock, up to IDEMPOTENCY_WAIT_SECONDS, past which it gets 409; on SQLite writers queue for the write lock
anyway (IMMEDIATE transactions, svc_common.conf). So a keyed write that HAProxy retries onto another
gateway, after the first gateway died with the write still running at the service, gets the write's own
answer. Should two writes of one key still meet at the record's unique constraint, the later one is a 409,
never a 500.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from psycopg2 import errorcodes
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
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
    """Take the transaction-scoped advisory lock for (scope, key), waiting up to IDEMPOTENCY_WAIT_SECONDS for
    a request in flight with the same key; False past that. SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return True
    lock_id = int.from_bytes(hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:8], "big", signed=True)
    wait = f"{max(1, round(settings.IDEMPOTENCY_WAIT_SECONDS * 1000))}ms"
    with connection.cursor() as cursor:
        try:
            # One round trip; the write itself then runs under the database's own lock_timeout again.
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true); SELECT pg_advisory_xact_lock(%s);"
                " SET LOCAL lock_timeout TO DEFAULT",
                [wait, lock_id],
            )
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) == errorcodes.LOCK_NOT_AVAILABLE:
                return False  # the transaction is aborted: the caller raises out of it
            raise
    return True


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
        with transaction.atomic():
            if not _lock(scope, key):
                raise KeyInFlight()
            oldest = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
            record = model.objects.filter(scope=scope, key=key).first()
            if record is not None and record.created_at < oldest:
                record.delete()
                record = None
            if record is not None:
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
