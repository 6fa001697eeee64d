"""`complaintsd purge --dry-run|--yes`: remove the personal data of complaints closed longer ago than
`[retention] keep` (runners/retention.py), leaving tombstones the reports and `verify` still read."""

from __future__ import annotations

from daemon.config import load_config
from daemon.edges.register import Register
from daemon.errors import ComplaintsError
from daemon.runners.desk import Desk
from daemon.runners.retention import due_for_purge, purge


def cmd_purge(args) -> int:
    if args.dry_run == args.yes:
        raise ComplaintsError("purge: say --dry-run (list what would go) or --yes (remove it)")
    config = load_config(args.config)
    desk = Desk.of(config, Register(config.database.url))
    years = config.retention_years
    closed = due_for_purge(desk, years) if args.dry_run else purge(desk, years)
    verb = "would purge" if args.dry_run else "purged"
    for item in closed:
        print(f"{verb} {item.reference} (closed {item.closed_at:%Y-%m-%d})")
    print(f"{len(closed)} complaint(s) {verb}: closed more than {years} year(s) ago ([retention] keep)")
    return 0
