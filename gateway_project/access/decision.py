"""What the access step decided about a request: a verdict, and what each verdict needs to be carried out."""

import enum
from dataclasses import dataclass

from .pages import CachedPage, Fill


class Verdict(enum.Enum):
    HIT = "hit"  # admitted, and the page is cached: answer it
    FILL = "fill"  # admitted, the page is not cached: fetch it and store it
    WAIT = "wait"  # admitted, another request is fetching the page: wait for it
    BYPASS = "bypass"  # admitted, nothing to look up or store
    LIMITED = "limited"  # over the rate limit: 429
    UNAUTHENTICATED = "unauthenticated"  # no token, a malformed, unknown or expired one: 401
    UNVERIFIED = "unverified"  # no verified record of the token in Redis: the database decides, then the step again
    UNAVAILABLE = "unavailable"  # Redis did not answer: the database authenticates; fail open or closed


class Failure(enum.Enum):
    """Why a request is unauthenticated."""

    MISSING = "no token"
    MALFORMED = "not a token header"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class RateState:
    """One GCRA step's outcome, for the RateLimit headers and Retry-After."""

    group: str
    limit: int  # -1: the client is unlimited
    period_ms: int
    remaining: int = 0
    reset_ms: int = 0
    retry_after_ms: int = 0

    @property
    def unlimited(self) -> bool:
        return self.limit < 0


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    client_id: int | None = None
    rate: RateState | None = None
    page: CachedPage | None = None  # HIT
    fill: Fill | None = None  # FILL and WAIT
    failure: Failure | None = None  # UNAUTHENTICATED
    ticket: str | None = None  # UNVERIFIED: what the record must be stored with (access.lua)

    @property
    def admitted(self) -> bool:
        return self.verdict in ADMITTED


ADMITTED = frozenset({Verdict.HIT, Verdict.FILL, Verdict.WAIT, Verdict.BYPASS})
