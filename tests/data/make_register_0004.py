"""How tests/data/register-0004.db was made, with the code of commit 8422e66 (schema revision 0004):
`python tests/data/make_register_0004.py OUT.db WORKDIR` from a checkout of that commit. Kept to say
what the fixture holds; never re-run it with newer code (the file stands for registers in use)."""

import shutil
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.runners import BOB, FakeClock, ingest, make_desk, relay

EVALUATION = """#gravité haute
#complexité moyenne
#impact fort
#portée systémique
#lié REC-2026-000002
#souhait Un remboursement intégral
#cause Colis mal calé au dépôt de Lyon
#action corrective Former l'équipe de Lyon @paul@example.com 2026-12-15
#action preventive Revoir le calage
"""


def main(out: Path, work: Path) -> None:
    clock = FakeClock()
    desk = make_desk(work, clock)
    ingest(desk, complaint(1, subject="Colis abîmé"), complaint(2, subject="Colis cassé"), complaint(3))
    first = next(m for m in relay(desk) if m.kind == "handler_notification" and "000001" in m.subject)
    for delay, body in (
        (1, EVALUATION),
        (2, "#action 2 faite\n#compensation avoir 50 EUR\n#réponse Remboursé."),
        (1, "#clore fondée"),
    ):
        clock.advance(timedelta(hours=delay))
        ingest(desk, reply(first.message, BOB, body))
        relay(desk)
    clock.advance(timedelta(days=8))
    Sweeper(desk).sweep()
    relay(desk)
    save_register(desk, out)


def save_register(desk, out: Path) -> None:
    """The register file as one self-contained file: WAL checkpointed, vacuumed, copied to `out`."""
    database = Path(str(desk.register.engine.url.database))
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = sqlite3.connect(database)
    db.execute("VACUUM")
    db.close()
    shutil.copy(database, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
