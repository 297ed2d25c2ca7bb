"""The access step on Django's side: carry out the decision the event loop handed over, or decide here.

In a deployment, the ASGI application (gateway_project.application) has already run the step on the event loop and
answered hits there; what reaches Django comes with its decision (HANDED_OVER). This middleware finishes
what needs Django: a token the database must verify, a person's session (access.sessions), Redis being down,
a 401 or 429 in the error shape, and a page to fetch with the view and store. Without the event loop in
front (the Django test client, runserver) it runs the step itself, and answers hits with the same builders.

It is the innermost middleware, so every response it makes, hits included, passes through the rest.
"""

import contextvars
import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError

from browsable.views import refusal_page
from clients.exceptions import (
    AuthenticationFailed,
    CsrfFailed,
    NotAuthenticated,
    RateLimited,
    RateLimiterUnavailable,
    TokenExpired,
)
from clients.records import token_record, token_record_key
from clients.services import token_authenticate
from clients.tokens import token_hash
from gateway_project.eventloop import run_sync
from svc_common.errors import api_exception_response, as_api_exception
from svc_common.exceptions import DatabaseUnavailable

from . import pages, routes, step
from .answers import page_answer, page_headers, rate_limit_headers
from .decision import Decision, Failure, Verdict
from .request import AccessRequest
from .sessions import session_decision

logger = logging.getLogger("gateway.access")
# The decision the event loop made for the request being handed to Django (a2wsgi runs Django in a copy of
# the loop task's context, so the value travels with the request).
HANDED_OVER: contextvars.ContextVar[Decision | None] = contextvars.ContextVar("access_decision", default=None)
# A token verified in the database, then dropped (revoked) before its record was stored, is verified again once.
VERIFY_ATTEMPTS = 2
AUTH_LIMITED = "Too many authentication attempts from this address; retry later."
FAILURES = {
    Failure.MISSING: NotAuthenticated,
    Failure.MALFORMED: lambda: AuthenticationFailed("Invalid token header."),
    Failure.EXPIRED: TokenExpired,
}


class AccessMiddleware:
    """See the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not routes.needs_access(request.path_info):
            return self.get_response(request)
        started = time.perf_counter()
        access = AccessRequest.from_django(request)
        decision = HANDED_OVER.get() or run_sync(step.decide(access))
        try:
            if decision.failure is Failure.MISSING:  # no token: a person's session, if one is logged in
                decision = session_decision(request, access) or decision
            decision = self._settle(access, decision)
        except (NotAuthenticated, RateLimited, CsrfFailed, DatabaseUnavailable) as exc:
            # A person's browser gets the refusal drawn in the browsable API, with its login link.
            response = api_exception_response(exc) if pages.wants_json(access) else refusal_page(request, exc)
            _add(response, rate_limit_headers(getattr(exc, "rate", None)))
            return response
        request.client_id = decision.client_id
        request.page_fill = decision.fill  # an aggregate's view reads the parts the lookup found
        key, _ = step.presented_key(access)
        request.token_hash = token_hash(key) if key else None
        request.cache_timing_ms = round((time.perf_counter() - started) * 1000, 2)
        if decision.verdict is Verdict.HIT:
            return page_answer(access, decision.page, cache_state="HIT", rate=decision.rate).to_response()
        response = self.get_response(request)
        if decision.fill is not None:
            response = self._fill(access, decision, response)
        _add(response, rate_limit_headers(decision.rate))
        return response

    @staticmethod
    def _settle(access: AccessRequest, decision: Decision) -> Decision:
        """Carry the verdicts that need Django, the database or waiting, to one of HIT, FILL or BYPASS."""
        if decision.verdict is Verdict.UNVERIFIED:
            decision = _verify(access, decision)
        if decision.verdict is Verdict.UNAVAILABLE:
            decision = _without_redis(access, decision)
        if decision.verdict is Verdict.UNAUTHENTICATED:
            raise FAILURES[decision.failure]()
        if decision.verdict is Verdict.LIMITED:
            detail = AUTH_LIMITED if decision.rate.group == "auth" else None
            raise RateLimited(decision.rate.retry_after_ms / 1000, detail, rate=decision.rate)
        if decision.verdict is Verdict.WAIT:
            decision = run_sync(step.wait_for_fill(decision))
        return decision

    @staticmethod
    def _fill(access: AccessRequest, decision: Decision, response):
        """Store the view's answer as the page, when every client may see it; else give up the fill lock."""
        fill = decision.fill
        page = (
            None
            if response.streaming
            else pages.cacheable_page(response.status_code, list(response.items()), response.content)
        )
        if page is None:
            run_sync(pages.release(fill=fill))
            return response
        run_sync(pages.store(fill=fill, page=page))
        answer = page_answer(access, page, cache_state=fill.cache_state, rate=None)
        if answer.status == 304:
            return answer.to_response()
        _add(response, page_headers(page.etag, fill.cache_state))
        return response


def _verify(access: AccessRequest, decision: Decision) -> Decision:
    """No verified record of the token in Redis (the script already metered the address for it): the database
    decides, the record is stored with the script's ticket, then the step runs again with it."""
    key, _ = step.presented_key(access)
    record_key = token_record_key(token_hash(key))
    for _attempt in range(VERIFY_ATTEMPTS):
        try:
            token = token_authenticate(key=key)
        except (OperationalError, InterfaceError) as exc:
            # The database failed, not the token: the address gets its guess back, and a record verified
            # within TOKEN_RECORD_GRACE_SECONDS serves its client meanwhile (cached pages go on); without
            # one, a 503 with Retry-After.
            run_sync(step.end_verification(record_key))
            run_sync(step.give_back(access))
            if settings.TOKEN_RECORD_GRACE_SECONDS > 0:
                kept = run_sync(step.decide(access, database_down=True))
                if kept.verdict is not Verdict.UNVERIFIED:
                    logger.warning("Token record used past its verification: the database is unavailable (%s)", exc)
                    return kept
            raise as_api_exception(exc) from exc
        if token is None:
            run_sync(step.end_verification(record_key))
            raise AuthenticationFailed()
        run_sync(step.remember(access, record_key, decision.ticket, token_record(token), guessable=True))
        if token.expired:
            raise TokenExpired()
        decision = run_sync(step.decide(access))
        if decision.verdict is not Verdict.UNVERIFIED:
            return decision
    # The record could not be kept (Redis answers the script only, or it was dropped meanwhile, each time):
    # the database has just accepted the token, so carry on as without Redis.
    return Decision(Verdict.UNAVAILABLE, token.client_id)


def _without_redis(access: AccessRequest, decision: Decision) -> Decision:
    """Redis is unreachable: authenticate from the database; then fail open (unmetered) or closed, per setting."""
    client_id = decision.client_id
    if client_id is None and step.route_group(access) != "auth":
        key, failure = step.presented_key(access)
        token = token_authenticate(key=key) if failure is None else None
        if token is None:
            raise FAILURES[failure]() if failure is not None else AuthenticationFailed()
        if token.expired:
            raise TokenExpired()
        client_id = token.client_id
    if not settings.RATE_LIMIT_FAIL_OPEN:
        raise RateLimiterUnavailable(1)
    return Decision(Verdict.BYPASS, client_id)


def _add(response, headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        response[name] = value
