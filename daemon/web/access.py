"""Who is looking, and what they may see: the one place the web view's rule lives.

`supervisor` and `auditor` see the whole register; a `handler` sees only the complaints they hold,
in the register, on a sheet, in an attachment and in an export alike. Every page builds its query
through `Viewer.scope` and checks a sheet through `Viewer.may_see`, as Django admin's
`get_queryset` is asked once per request, never per page.

Login attempts are rate-limited (`LoginLimiter`): a few wrong passwords, then a pause, so that a
password cannot be guessed at the speed of the network.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from daemon.edges.register.views import ComplaintView, Filters


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    HANDLER = "handler"


@dataclass(frozen=True)
class Viewer:
    name: str
    role: Role

    @property
    def sees_everything(self) -> bool:
        return self.role is not Role.HANDLER

    def scope(self, filters: Filters) -> Filters:
        """The filters narrowed to what this viewer may see (a handler: their own complaints only)."""
        if self.sees_everything:
            return filters
        return replace(filters, handler=self.name)

    def may_see(self, complaint: ComplaintView) -> bool:
        return self.sees_everything or complaint.handler_email.lower() == self.name.lower()


MAX_REMEMBERED = 10_000


class LoginLimiter:
    """At most `attempts` failed logins per `window` seconds, per user name and per client address."""

    def __init__(self, attempts: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, *keys: str) -> bool:
        now = self.clock()
        return any(len(self._recent(key, now)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        if len(self._failures) > MAX_REMEMBERED:  # names made up by the thousand must not fill the memory
            self._failures = {k: t for k, t in self._failures.items() if self._recent(k, now)}
        for key in keys:
            self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
