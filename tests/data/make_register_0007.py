"""How tests/data/register-0007.db was made, with the code of commit a3b09c6 (schema revision 0007):
`python tests/data/make_register_0007.py OUT.db WORKDIR` from a checkout of that commit. The story of
make_register_0006.py (purge included), then a sixth complaint with a file, from another customer,
erased on request (`complaintsd erase`), and a seventh just received, its letters still in the
outbox. Never re-run it with newer code."""

import sys
from datetime import timedelta
from pathlib import Path

from daemon.runners.erasure import erase, erasure_plan
from daemon.runners.retention import purge
from daemon.runners.sweep import Sweeper
from tests.data.make_register_0004 import save_register
from tests.data.make_register_0005 import story
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, ingest, make_desk, relay

ERASED = "Jeanne Martin <jeanne.martin@client.example>"


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
    photo = ("photo.jpg", b"\xff\xd8\xff" + b"J" * 4000, "image/jpeg")
    ingest(desk, complaint(6, sender=ERASED, subject="Colis perdu", attachment=photo))
    relay(desk)
    clock.advance(timedelta(days=1))
    erase(desk, erasure_plan(desk, "jeanne.martin@client.example", b"k" * 32), "admin")
    ingest(desk, complaint(7, subject="Facture erronée"))
    save_register(desk, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
