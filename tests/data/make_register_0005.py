"""How tests/data/register-0005.db was made, with the code of commit d1cbcdb (schema revision 0005):
`python tests/data/make_register_0005.py OUT.db WORKDIR` from a checkout of that commit. The register
of revision 0004 (make_register_0004.py) plus a phone complaint typed in with `add`, and a closing
answered on the three satisfaction points. Never re-run it with newer code."""

import sys
from datetime import timedelta
from pathlib import Path

from daemon.core.manual_entry import Channel, ManualEntry
from daemon.runners.entry import register_entry
from daemon.runners.sweep import Sweeper
from tests.data.make_register_0004 import EVALUATION, save_register
from tests.harness import complaint, reply
from tests.runners import BOB, CUSTOMER, FakeClock, ingest, make_desk, relay


def main(out: Path, work: Path) -> None:
    clock = FakeClock()
    desk = make_desk(work, clock)
    story(desk, clock)
    save_register(desk, out)


def story(desk, clock: FakeClock) -> None:
    """Three mail complaints, one evaluated, acted on and closed, its satisfaction answered; a phone one."""
    ingest(desk, complaint(1, subject="Colis abîmé"), complaint(2, subject="Colis cassé"), complaint(3))
    first = next(m for m in relay(desk) if m.kind == "handler_notification" and "000001" in m.subject)
    for delay, body in (
        (1, EVALUATION),
        (2, "#action 2 faite\n#compensation avoir 50 EUR\n#clore fondée\n#réponse Remboursé."),
    ):
        clock.advance(timedelta(hours=delay))
        ingest(desk, reply(first.message, BOB, body))
    closed = next(m for m in relay(desk) if m.kind == "closed")
    clock.advance(timedelta(hours=3))
    ingest(desk, reply(closed.message, f"Camille Durand <{CUSTOMER}>", "1 oui\n2 non\n3 oui\nMerci."))
    phone = ManualEntry(
        Channel.PHONE,
        "Jeanne Petit",
        "Facture en double",
        "Prélevée deux fois.",
        clock() - timedelta(hours=1),
        phone="+33 1 23 45 67 89",
        address="12 rue des Lilas\n69003 Lyon",
        wish="Le remboursement",
    )
    register_entry(desk, phone)
    relay(desk)
    clock.advance(timedelta(days=8))
    Sweeper(desk).sweep()
    relay(desk)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
