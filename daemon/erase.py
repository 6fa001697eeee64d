"""`complaintsd erase --customer EMAIL --dry-run|--yes [--force]`: one person pseudonymised at their
request (GDPR art. 17; core/erasure.py says what goes, what stays and why; runners/erasure.py does it)."""

from __future__ import annotations

import getpass

from daemon.config import load_config
from daemon.core.erasure import ErasurePlan, Held, open_ones
from daemon.edges.keyfile import secret_key
from daemon.edges.register import Register
from daemon.errors import ComplaintsError
from daemon.runners.desk import Desk
from daemon.runners.erasure import erase, erasure_plan


def cmd_erase(args) -> int:
    if args.dry_run == args.yes:
        raise ComplaintsError("erase: say --dry-run (list what would change) or --yes (erase)")
    if "@" not in args.customer:
        raise ComplaintsError(
            f"erase: --customer {args.customer}: not an email address (a pseudonym is erased already)"
        )
    config = load_config(args.config)
    key = secret_key(config.pseudonym_key_file, "retention.pseudonym_key_file")
    desk = Desk.of(config, Register(config.database.url))
    plan = erasure_plan(desk, args.customer, key.encode("ascii"))
    if plan.empty:
        print(f"nothing held about {plan.person.email}")
        return 0
    still_open = open_ones(plan)
    if args.yes and still_open and not args.force:
        names = ", ".join(f"{h.reference} ({h.status})" for h in still_open)
        raise ComplaintsError(
            f"erase: {names} still open: the register owes an answer to that address; close it first, "
            "or --force to erase it anyway (no letter can reach them after)"
        )
    if args.yes and not erase(desk, plan, _admin()):
        print("the SQLite log could not be emptied (a reader held it): old pages stay in it until its next checkpoint")
    print(f"{'would erase' if args.dry_run else 'erased'} {plan.person.email} as {plan.alias}:")
    for held in plan.complaints:
        print(f"  {_line(held)}")
    if plan.stray_messages or plan.stray_letters:
        print(
            f"  of no complaint: {plan.stray_messages} message(s) from them emptied, "
            f"{len(plan.stray_letters)} letter(s) to or about them removed"
        )
    if args.yes:
        print(_summary(plan))
    elif still_open:
        print(f"{len(still_open)} complaint(s) still open: --yes refuses them unless --force")
    return 0


def _line(held: Held) -> str:
    state = f"{held.status}, still open" if held.open else held.status
    pending = f" ({len(held.pending)} pending: cancelled)" if held.pending else ""
    return (
        f"{held.reference} of {held.received_at:%Y-%m-%d} ({state}): {held.messages} message(s) emptied, "
        f"{held.files} file(s) and {held.letters} letter(s){pending} removed, "
        f"the text of {held.events} history event(s) blanked"
    )


def _summary(plan: ErasurePlan) -> str:
    return f"{len(plan.complaints)} complaint(s) pseudonymised; `export --customer` now finds nothing about them"


def _admin() -> str:
    """The history's actor of the erase: the admin, by their login on this host."""
    try:
        return f"admin ({getpass.getuser()})"
    except (OSError, KeyError):
        return "admin"
