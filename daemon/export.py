"""`complaintsd export`: the register as one row per complaint, CSV or JSON, to a file or standard
output, written as it is read (constant memory: benchmarks/export.py measures it).

CSV is written for spreadsheets: UTF-8 with a byte-order mark by default (without it, Excel reads
UTF-8 as Windows-1252 and "réclamation" becomes "rÃ©clamation"), `,` or the `--separator` given;
`--excel` is what Excel in a French locale opens with a double click: BOM, `;` between fields and a
decimal comma. JSON is one array of objects, streamed, with the same keys as the CSV columns.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO

from daemon.config import Config, load_config
from daemon.core.export import COLUMNS, NO_RULES, ExportRules, export_row
from daemon.core.profiles import mediation_dates
from daemon.edges.register import Register
from daemon.edges.register.export import export_records
from daemon.edges.register.views import Filters, list_complaints, messages_from, show_complaint
from daemon.errors import ComplaintsError
from daemon.presenting import detail_json, mediation_of

SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t"}


def cmd_export(args) -> int:
    config = load_config(args.config).named(args.register)
    only = Filters(now=datetime.now(UTC), prefix=config.register.reference_prefix) if args.register else None
    if args.customer:
        return _subject_access(config, args, only)
    separator = ";" if args.excel else _separator(args.separator)
    start, end = _day("--from", args.since), _day("--to", args.until)
    if start and end and end < start:
        raise ComplaintsError(f"--to {args.until} is before --from {args.since}")
    window = Window(
        _midnight(config, start) if start else None, _midnight(config, end + timedelta(days=1)) if end else None
    )
    register = Register(config.database.url)
    with _opened(args.output, bom=args.format == "csv" and not args.no_bom) as out:
        count = export(
            register, out, args.format, window, datetime.now(UTC), separator, args.excel, export_rules(config), only
        )
    if args.output:
        print(f"{count} complaint(s) exported to {args.output}", file=sys.stderr)
    return 0


def _subject_access(config: Config, args, only: Filters | None = None) -> int:
    """`export --customer EMAIL`: everything the register holds about one person (GDPR art. 15), as
    one JSON document: each of their complaints as `show --json` gives it (history and files
    included), and every message received from their address, whatever became of it."""
    if args.format != "json" or args.since or args.until:
        raise ComplaintsError("--customer: gives one JSON document (--format json), of every date")
    register = Register(config.database.url)
    with register.session() as session:
        prefix = only.prefix if only else None
        complaints = list_complaints(session, Filters(now=datetime.now(UTC), customer=args.customer, prefix=prefix))
        shown = [show_complaint(session, c.reference) for c in complaints]
        messages = messages_from(session, args.customer)
    document = {
        "customer": args.customer.strip(),
        "generated_at": datetime.now(UTC).isoformat(),
        "complaints": [detail_json(c, mediation_of(c, config.for_reference(c.reference))) for c in shown],
        "messages": [asdict(m) | {"arrived_at": m.arrived_at.isoformat()} for m in messages],
    }
    with _opened(args.output, bom=False) as out:
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    if args.output:
        print(
            f"{len(shown)} complaint(s), {len(messages)} message(s) of {args.customer} to {args.output}",
            file=sys.stderr,
        )
    return 0


@dataclass(frozen=True)
class Window:
    """The complaints received in [start, end): None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None


def export(
    register: Register,
    out: IO[str],
    form: str,
    window: Window,
    now: datetime,
    separator: str = ",",
    decimal_comma: bool = False,
    rules: ExportRules = NO_RULES,
    filters: Filters | None = None,
) -> int:
    """Write the complaints of `window` (and of `filters`, when given) to `out` as `form` (csv, json),
    deadlines judged at `now`; returns how many."""
    with register.session() as session:
        records = export_records(session, window.start, window.end, filters)
        rows = (export_row(record, now, rules) for record in records)
        if form == "json":
            return write_json(out, rows)
        return write_csv(out, rows, separator, decimal_comma)


def export_rules(config: Config) -> ExportRules:
    """The mediation dates under `[mediator] refer_after` and the profile's acknowledgement rule."""
    tz, closed, after = config.register.timezone, config.register.closed_days(), config.refer_after
    return ExportRules(lambda at: mediation_dates(at, after, tz, closed), config.profile.answer_meets_ack)


def write_csv(out: IO[str], rows: Iterator[tuple], separator: str = ",", decimal_comma: bool = False) -> int:
    """A header line with `COLUMNS`, then a line per complaint; None is an empty cell."""
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(_cell(value, decimal_comma) for value in row)
        count += 1
    return count


def write_json(out: IO[str], rows: Iterator[tuple]) -> int:
    """`[`, one object a line, `]`: valid JSON, written as it goes."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def _cell(value: object, decimal_comma: bool) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text
    return value


@contextmanager
def _opened(path: str | None, bom: bool) -> Iterator[IO[str]]:
    """The output file (created 0600 by the umask: it holds customers' data), or standard output."""
    encoding = "utf-8-sig" if bom else "utf-8"
    if path:
        with open(path, "w", encoding=encoding, newline="") as out:
            yield out
        return
    stdout = sys.stdout
    if bom:
        stdout.write("\ufeff")
    yield stdout
    stdout.flush()


def _separator(text: str) -> str:
    if text not in SEPARATORS:
        raise ComplaintsError(f"--separator {text!r}: use ',', ';' or 'tab'")
    return SEPARATORS[text]


def _day(option: str, text: str | None) -> date | None:
    """A day of the register's calendar (YYYY-MM-DD): --from from its first instant, --to to its last."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ComplaintsError(f"{option} {text}: not a date (YYYY-MM-DD)") from None


def _midnight(config: Config, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=config.register.timezone).astimezone(UTC)
