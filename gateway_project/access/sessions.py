"""A person's session through the access step: authenticated by Django, metered and logged as their API client.

The event loop never reads a session: a request with no token reaches Django unauthenticated, having cost no
Redis call. Here Django's own session authentication (SessionMiddleware, AuthenticationMiddleware) names the
gateway user, and their API client's record goes through the same access step as a token's record
(step.decide_for_client): a session and a token of one client draw on one rate-limit bucket,
gw:rl:<group>:c<client_id>, and both are logged with that client id.

A write by a session must carry Django's CSRF token, as DRF's SessionAuthentication requires: a cookie is sent
by the browser whoever made it send the request. A token is not, so token writes need no CSRF token.
"""

from rest_framework.authentication import CSRFCheck

from clients.exceptions import CsrfFailed
from clients.records import client_record, client_record_key
from clients.services import api_client_for_user
from gateway_project.eventloop import run_sync

from . import step
from .decision import Decision, Verdict
from .request import AccessRequest


def session_decision(request, access: AccessRequest) -> Decision | None:
    """The access step for the logged-in person of a request without a token; None when nobody is logged in."""
    user = request.user  # Django's lazy session user: the session is read only now, for token-less requests
    if not user.is_authenticated:
        return None
    if access.method not in step.SAFE_METHODS:
        enforce_csrf(request)
    client = api_client_for_user(user=user)
    decision = run_sync(step.decide_for_client(access, client.pk))
    if decision.verdict is Verdict.UNVERIFIED:
        record = client_record(client)
        run_sync(step.remember(access, client_record_key(client.pk), decision.ticket, record, guessable=False))
        decision = run_sync(step.decide_for_client(access, client.pk))
    if decision.verdict in (Verdict.UNVERIFIED, Verdict.UNAVAILABLE):
        return Decision(Verdict.UNAVAILABLE, client.pk)  # the record could not be cached: Redis is down
    return decision


def enforce_csrf(request) -> None:
    """Django's CSRF check of a session write (DRF's SessionAuthentication.enforce_csrf, as a 403 in our shape)."""
    request.body  # noqa: B018 (read before the check may parse a form, so the proxy can still forward the body)
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)  # reads the CSRF cookie
    reason = check.process_view(request, None, (), {})
    if reason:
        raise CsrfFailed(f"CSRF Failed: {reason}")
