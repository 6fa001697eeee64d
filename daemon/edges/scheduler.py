"""The scheduler adapter (APScheduler 3.x): the only code that owns timers.

It triggers one idempotent job, the sweep, every `sweep_interval` and once at start, and the
daily integrity check (`also`). Nothing due
is ever stored in APScheduler (docs/notes.md: it drops a one-shot job handed to its executor when the
process is killed); the register holds what is due, so a missed or doubled run changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from daemon.errors import ComplaintsError

log = logging.getLogger("complaintsd.scheduler")


class Scheduler:
    def __init__(self, job: Callable[[], None], every: timedelta) -> None:
        self.job = job
        self._outage = False
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            id="sweep",
            next_run_time=datetime.now(UTC),
        )

    def also(self, name: str, job: Callable[[], None], every: timedelta, first_after: timedelta) -> None:
        """A second idempotent job (the daily integrity check), its own outages logged like the sweep's."""
        self.scheduler.add_job(
            lambda: self._guarded(name, job),
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            id=name,
            next_run_time=datetime.now(UTC) + first_after,
        )

    def _guarded(self, name: str, job: Callable[[], None]) -> None:
        try:
            job()
        except ComplaintsError as exc:
            log.warning("%s failed, will retry at the next run: %s", name, str(exc).splitlines()[0])

    def start(self) -> None:
        self.scheduler.start()

    def wake(self) -> None:
        """Run the sweep now (e.g. after new complaints were registered)."""
        self.scheduler.modify_job("sweep", next_run_time=datetime.now(UTC))

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)

    def _run(self) -> None:
        try:
            self.job()
        except ComplaintsError as exc:
            if not self._outage:
                log.warning("sweep failed, will retry at the next run: %s", str(exc).splitlines()[0])
            self._outage = True
        else:
            self._outage = False
