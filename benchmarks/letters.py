"""Letters benchmark: the CPU of rendering and composing the letters, in process, without I/O but SQLite.

    PYTHONPATH=. .venv/bin/python benchmarks/letters.py [--messages 500] [--runs 3]

(a) the ingesting process's work on `benchmarks/ingest.py`'s messages (500 complaints, every 5th with a
    50 KB PDF, from one customer), in batches of 100 through `Ingestor.ingest` on a SQLite register:
    its CPU, and the part of it spent in `Postbox.compose` (rendering the 1,000 letters with Jinja and
    Babel and composing their MIME bytes; the first batch compiles the templates);
(b) the two letters of the last complaint (its acknowledgement and its handler's notification, which
    lists 10 earlier complaints and carries the PDF) rendered and composed 1,000 times, then rendered
    alone 1,000 times.
CPU time (time.process_time), not wall time: the machine is shared. Compare runs of two commits
alternated in the same minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import messages  # noqa: E402

from daemon.core.letters import postbox  # noqa: E402
from daemon.core.mail import Fetched  # noqa: E402
from daemon.runners.ingest import Ingestor  # noqa: E402
from tests.runners import FakeClock, make_desk  # noqa: E402


def ingest(count: int) -> tuple[float, float, list]:
    """The CPU of ingesting `count` messages, the part of it in Postbox.compose, and the letters composed."""
    spent = [0.0]
    letters = []
    compose = postbox.Postbox.compose

    def timed(self, letter, now):
        start = time.process_time()
        try:
            return compose(self, letter, now)
        finally:
            spent[0] += time.process_time() - start
            letters.append((self, letter, now))

    postbox.Postbox.compose = timed  # type: ignore[method-assign]
    try:
        raws = messages(count, "p")
        clock = FakeClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
        desk = make_desk(Path(tempfile.mkdtemp()), clock, limits={"automatic_mails_per_day": count * 10})
        ingestor = Ingestor(desk)
        start = time.process_time()
        for first in range(0, count, 100):
            batch = raws[first : first + 100]
            ingestor.ingest([Fetched(f"k{first + i}", raw, desk.clock()) for i, raw in enumerate(batch)])
        return time.process_time() - start, spent[0], letters
    finally:
        postbox.Postbox.compose = compose  # type: ignore[method-assign]


def one_complaint(letters: list, times: int = 1000) -> tuple[float, float]:
    """The CPU of composing, then of rendering alone, the last complaint's two letters `times` times."""
    pair = [
        next(item for item in reversed(letters) if item[1].kind == kind)
        for kind in ("acknowledgement", "handler_notification")
    ]
    start = time.process_time()
    for _ in range(times):
        for box, letter, now in pair:
            box.compose(letter, now)
    composed = time.process_time() - start
    start = time.process_time()
    for _ in range(times):
        for box, letter, _now in pair:
            box.render(letter.facts)
    return composed, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.runs):
        total, letters_cpu, letters = ingest(args.messages)
        composed, rendered = one_complaint(letters)
        print(
            f"ingesting {args.messages} messages: CPU {total:.2f} s, of which letters {letters_cpu:.2f} s "
            f"({len(letters)} letters); one complaint's two letters x1000: composed {composed:.2f} s, "
            f"rendered alone {rendered:.2f} s"
        )


if __name__ == "__main__":
    main()
