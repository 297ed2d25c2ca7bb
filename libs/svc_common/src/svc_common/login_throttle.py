"""Password guessing is metered per address and per username, before any password is checked.

Every POST to a login form (settings.LOGIN_THROTTLED_VIEWS: the admin's, the browsable API's) takes one step of
RATE_LIMIT_LOGIN for the caller's address (svc_common.client_ip) and one for the username it tries, both or
neither, in one Redis script (login_throttle.lua, with gcra.lua's GCRA); a login that succeeds gives both back,
so only failures count. A spent budget is answered 429 with Retry-After before the form's view runs: a page, as
these forms are for people. The gateway's token endpoint takes the username's step the same way
(login_attempt) and answers JSON; its address is metered by the access step. Each project keeps its own keys
(its users are its own): login:<cache key prefix>:... . With Redis down the attempt goes through, logged, as
the access step fails open.
"""

import hashlib
import logging
import math
import unicodedata
from dataclasses import dataclass

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.html import format_html

from .breaker import redis_breaker
from .client_ip import client_ip
from .gcra import parse_rate, script_text

logger = logging.getLogger("svc_common.login_throttle")

SCRIPT = script_text("login_throttle")
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many login attempts</title></head>'
    "<body><h1>Too many login attempts</h1><p>Wait {} seconds, then try again.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    keys: tuple[str, str, str]  # the address's key ("" when not metered here), the username's, the expiry set
    allowed: bool
    retry_after: int = 0  # seconds


def login_attempt(*, username: str, address: str | None) -> LoginAttempt:
    """Take the steps of one password guess (the address's too, unless None); refused when either is spent."""
    prefix = f"login:{settings.CACHES['default'].get('KEY_PREFIX', '')}"
    # Usernames compared as people type them: NFKC, as Django's forms normalise them, and case-folded.
    folded = unicodedata.normalize("NFKC", username).casefold()
    keys = (
        f"{prefix}:ip:{address}" if address is not None else "",
        f"{prefix}:user:{hashlib.sha256(folded.encode()).hexdigest()}",
        f"{prefix}:expiry",
    )
    reply = _run(keys, "take")
    if reply is None:
        return LoginAttempt(keys, allowed=True)
    return LoginAttempt(keys, allowed=reply[0] == 1, retry_after=math.ceil(reply[1] / 1000))


def login_succeeded(attempt: LoginAttempt) -> None:
    """The guess was right: give its steps back, so that only failures count."""
    _run(attempt.keys, "give_back")


def throttled_page(retry_after: int) -> HttpResponse:
    response = HttpResponse(format_html(PAGE, retry_after), status=429, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class LoginThrottleMiddleware:
    """Meters POSTs to the login forms (see the module docstring); after CsrfViewMiddleware in MIDDLEWARE, so a
    request that fails the CSRF check costs nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match.view_name not in settings.LOGIN_THROTTLED_VIEWS:
            return None
        username = request.POST.get(get_user_model().USERNAME_FIELD, "")
        attempt = login_attempt(username=username, address=client_ip(request))
        if not attempt.allowed:
            return throttled_page(attempt.retry_after)
        request.login_attempt = attempt
        return None


@receiver(user_logged_in, dispatch_uid="svc_common.login_throttle")
def _give_back(sender, request, user, **kwargs):
    attempt = getattr(request, "login_attempt", None)
    if attempt is not None:
        login_succeeded(attempt)


def _run(keys: tuple[str, str, str], action: str) -> list | None:
    if not redis_breaker.available():
        logger.warning("Redis unavailable: a login attempt is not metered")
        return None
    policy = parse_rate(settings.RATE_LIMIT_LOGIN)
    try:
        connection = get_redis_connection("default")
        return connection.register_script(SCRIPT)(keys=list(keys), args=[action, policy.limit, policy.period_ms])
    except RedisError as exc:
        redis_breaker.trip(exc)
        logger.warning("Redis unavailable: a login attempt is not metered")
        return None
