"""How tests/data/register-0006.db was made, with the code of commit 71027ef (schema revision 0006):
`python tests/data/make_register_0006.py OUT.db WORKDIR` from a checkout of that commit. The story of
make_register_0005.py, its history chained as written, plus a fourth complaint closed and then purged
six years later (a tombstone and a `purged` event). Never re-run it with newer code."""

import sys
from datetime import timedelta
from pathlib import Path

from daemon.runners.retention import purge
from daemon.runners.sweep import Sweeper
from tests.data.make_register_0004 import save_register
from tests.data.make_register_0005 import story
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, ingest, make_desk, relay


def main(out: Path, work: Path) -> None:
    clock = FakeClock()
    desk = make_desk(work, clock)
    story(desk, clock)
    ingest(desk, complaint(5, subject="Ancienne réclamation"))
    notice = next(m for m in relay(desk) if m.kind == "handler_notification" and "000005" in m.subject)
    clock.advance(timedelta(hours=2))
    ingest(desk, reply(notice.message, BOB, "#clore fondée\n#réponse Réglé."))
    relay(desk)
    clock.advance(timedelta(days=6 * 366))
    Sweeper(desk).sweep()
    relay(desk)
    purge(desk, 5)
    save_register(desk, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
