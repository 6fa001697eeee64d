"""Schema migrations: a register made by an older release is upgraded with nothing lost, and no code
runs on a schema it does not know.

`tests/data/register-v0.db` was made by release 0.1.0's code (commit 4d2cfc8, before migrations; see
tests/data/README.md): four complaints (one closed after commands, an answer and a sent reminder, two
acknowledged, one just received), their history, attachment, reminders in every state, tokens, and
outbox rows sent and pending. Every row of every table must come through the upgrade unchanged.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from daemon.checks import run_checks
from daemon.cli import main
from daemon.core.chain import verify_events
from daemon.edges.register import Register, schema
from daemon.edges.register.database import migrate
from daemon.edges.register.integrity import chain_head, chained_events
from daemon.edges.register.views import show_complaint
from daemon.edges.storage import AttachmentStore
from daemon.errors import SchemaError
from daemon.runners.integrity import verify_register
from tests.runners import config_of

ROOT = Path(__file__).resolve().parents[1]

V0 = Path(__file__).parent / "data" / "register-v0.db"
V0_TABLES = (
    "reference_counter",
    "inbound_message",
    "complaint",
    "command_token",
    "reminder",
    "digest",
    "attachment",
    "history",
    "outbox",
)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def old_register(tmp_path: Path) -> Path:
    path = tmp_path / "register.db"
    shutil.copy(V0, path)
    return path


def rows(path: Path, table: str, columns: list[str] | None = None) -> list[tuple]:
    with sqlite3.connect(path) as db:
        names = columns or [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        return db.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY 1, 2").fetchall()


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def differences(url: str) -> list:
    """What Alembic's autogenerate would still add or change: nothing, when revisions equal the models."""
    register_engine = Register(url).engine
    with register_engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)


def test_the_old_register_is_refused_until_migrated(old_register: Path) -> None:
    with pytest.raises(SchemaError, match=r"release 0\.1\.0, before migrations.*run `complaintsd migrate`"):
        Register(f"sqlite:///{old_register}")


def test_upgrading_the_old_register_loses_nothing(old_register: Path) -> None:
    url = f"sqlite:///{old_register}"
    before = {table: (columns(old_register, table), rows(old_register, table)) for table in V0_TABLES}
    assert len(before["complaint"][1]) == 4 and len(before["history"][1]) > 20, "the fixture is the one described"

    done = migrate(url, NOW)

    assert (done.before.before_migrations, done.after.at_head) == (True, True)
    for table, (names, old_rows) in before.items():
        assert rows(old_register, table, names) == old_rows, f"{table} changed in the upgrade"
    evaluation = rows(old_register, "complaint", ["complexity", "impact", "scope", "wished_solution"])
    assert evaluation == [(None, None, None, "")] * 4, "0002: nothing evaluated yet, no wish recorded"
    assert rows(old_register, "complaint_link") == rows(old_register, "cause") == []
    assert done.copy is not None and done.copy.name == "register.db.v0.1.0-20261201T080000Z.bak"
    assert rows(done.copy, "history") == before["history"][1], "the copy is the register before the upgrade"
    # The upgraded register is the models' schema exactly, and the code reads it.
    assert differences(url) == []
    with Register(url).session() as session:
        closed = show_complaint(session, "REC-2026-000001")
    assert (closed.status, closed.category) == ("closed", "livraison")
    history_of_first = [row for row in before["history"][1] if row[1] == 1]
    assert len(closed.history) == len(history_of_first) > 5


def test_migrate_creates_an_empty_register_through_every_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    done = migrate(url, NOW)
    assert (done.before.empty, done.after.current, done.copy) == (True, schema.head(), None)
    assert differences(url) == [], "the revisions, run from the first, build what the models declare"
    again = migrate(url, NOW)
    assert (again.before.at_head, again.copy) == (True, None)


def test_a_fresh_register_is_created_only_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(SchemaError, match="empty: no register yet"):
        Register(url)
    Register(url, create=True)
    assert schema.state(Register(url).engine).at_head
    assert differences(url) == []


def test_a_register_from_a_newer_release_is_not_touched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Register(url, create=True).dispose()
    with sqlite3.connect(tmp_path / "newer.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError, match="9999, unknown to this complaintsd"):
        migrate(url, NOW)


def config_file(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{tmp_path / "maildir"}"
[smtp]
host = "127.0.0.1"
port = 9
tls = "none"
from = "reclamations@example.com"
[database]
url = "sqlite:///{database}"
[storage]
path = "{tmp_path / "attachments"}"
[[handlers]]
name = "Bob"
email = "bob@example.com"
[routing]
default_handler = "bob@example.com"
supervisor = "qualite@example.com"
""",
        encoding="utf-8",
    )
    return path


def test_run_refuses_an_old_register_and_migrate_upgrades_it(tmp_path: Path, old_register: Path, capsys) -> None:
    config = config_file(tmp_path, old_register)

    assert main(["run", "--config", str(config)]) == 1
    refusal = capsys.readouterr().err
    assert refusal.count("\n") == 1 and "run `complaintsd migrate`" in refusal

    assert main(["migrate", "--config", str(config)]) == 0
    assert f"upgraded from release 0.1.0 to revision {schema.head()}" in capsys.readouterr().out
    assert main(["migrate", "--config", str(config)]) == 0
    assert "already at the latest revision" in capsys.readouterr().out


def test_check_reports_the_schema_state(tmp_path: Path, old_register: Path) -> None:
    config = config_of(tmp_path)
    [(ok, line)] = [(ok, line) for ok, line in run_checks(config) if line.startswith("database")]
    assert not ok and "before migrations" in line and "complaintsd migrate" in line
    migrate(config.database.url, NOW)
    [(ok, line)] = [(ok, line) for ok, line in run_checks(config) if line.startswith("database")]
    assert ok and line.endswith(f"schema at the latest revision ({schema.head()})")


def test_the_revisions_are_one_line_from_the_baseline() -> None:
    """One head, reached from the baseline: two revisions made in parallel would need a merge. The
    head a register must be at to open (the highest vNNNN_ file name, read without Alembic) is it."""
    script = ScriptDirectory.from_config(schema.alembic_config())
    assert script.get_heads() == [schema.head()]
    assert [r.revision for r in script.walk_revisions()][-1] == schema.BASELINE
    with Register("sqlite://", create=True).engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == schema.head()


R0004 = Path(__file__).parent / "data" / "register-0004.db"
R0004_TABLES = (*V0_TABLES, "complaint_link", "cause", "action")


def test_upgrading_a_register_of_revision_0004_loses_nothing(tmp_path: Path) -> None:
    """The previous release's register (tests/data/README.md): evaluated, an action open, a credit note."""
    path = tmp_path / "register.db"
    shutil.copy(R0004, path)
    url = f"sqlite:///{path}"
    with pytest.raises(SchemaError, match=r"revision 0004, older than the latest.*complaintsd migrate"):
        Register(url)
    before = {table: (columns(path, table), rows(path, table)) for table in R0004_TABLES}
    assert len(before["action"][1]) == 2 and len(before["complaint"][1]) == 3, "the fixture is the one described"

    done = migrate(url, NOW)

    assert (done.before.current, done.after.at_head, done.copy is not None) == ("0004", True, True)
    for table, (names, old_rows) in before.items():
        assert rows(path, table, names) == old_rows, f"{table} changed in the upgrade"
    added = rows(path, "complaint", ["channel", "customer_type", "customer_phone", "satisfaction_understood"])
    assert added == [("email", "customer", "", None)] * 3, "0005: every older complaint came by email"
    assert differences(url) == []
    with Register(url).session() as session:
        first = show_complaint(session, "REC-2026-000001")
    assert (first.status, first.scope, first.compensation_type, first.channel) == (
        "closed",
        "systemic",
        "credit",
        "email",
    )
    assert [(a.number, a.status) for a in first.actions] == [(1, "open"), (2, "done")]


R0005 = Path(__file__).parent / "data" / "register-0005.db"


def test_upgrading_a_register_of_revision_0005_chains_its_history(tmp_path: Path) -> None:
    """Revision 0006 chains every event already there (docs/chain.md), and changes nothing else."""
    path = tmp_path / "register.db"
    shutil.copy(R0005, path)
    url = f"sqlite:///{path}"
    tables = (*R0004_TABLES, "history")
    before = {table: (columns(path, table), rows(path, table)) for table in tables}
    assert len(before["history"][1]) > 50 and len(before["complaint"][1]) == 4, "the fixture is the one described"

    done = migrate(url, NOW)

    assert (done.before.current, done.after.at_head) == ("0005", True)
    for table, (names, old_rows) in before.items():
        assert rows(path, table, names) == old_rows, f"{table} changed in the upgrade"
    assert differences(url) == []
    with Register(url).session() as session:
        assert list(verify_events(chained_events(session))) == [], "every old event is chained"
        assert chain_head(session)[0] == len(before["history"][1])
        phone = show_complaint(session, "REC-2026-000004")
        first = show_complaint(session, "REC-2026-000001")
    assert (phone.channel, phone.customer_email, phone.customer_phone) == ("phone", "", "+33 1 23 45 67 89")
    assert first.satisfaction is not None and (first.satisfaction.understood, first.satisfaction.actions) == (
        "yes",
        "no",
    )


R0006 = Path(__file__).parent / "data" / "register-0006.db"


def upgraded_unchanged(fixture: Path, tmp_path: Path, complaints: int, revision: str) -> Path:
    """A copy of `fixture` migrated to the head: no row it had changed, the schema the models', its
    chains verifying; returns the copy's path."""
    path = tmp_path / "register.db"
    shutil.copy(fixture, path)
    url = f"sqlite:///{path}"
    tables = (*R0004_TABLES, "history", "chain_head")
    before = {table: (columns(path, table), rows(path, table)) for table in tables}
    assert len(before["complaint"][1]) == complaints, "the fixture is the one described"

    done = migrate(url, NOW)

    assert (done.before.current, done.after.at_head) == (revision, True)
    for table, (names, old_rows) in before.items():
        assert rows(path, table, names) == old_rows, f"{table} changed in the upgrade"
    assert differences(url) == []
    checked = verify_register(Register(url), AttachmentStore(tmp_path / "attachments"))
    assert (checked.ok, checked.events) == (True, len(before["history"][1])), checked.broken
    return path


def test_a_register_of_revision_0006_opens_and_its_chains_still_verify(tmp_path: Path) -> None:
    """The previous release's register (71027ef): its chains, purge tombstones included, hold under this
    code, and `migrate` brings it to the head without touching a row it had."""
    path = upgraded_unchanged(R0006, tmp_path, 5, "0006")
    url = f"sqlite:///{path}"
    with Register(url).session() as session:
        purged = show_complaint(session, "REC-2026-000005")
    assert (purged.status, purged.customer_email) == ("closed", "")


def test_opening_a_register_leaves_alembic_unimported(tmp_path: Path) -> None:
    """Alembic (with Mako and Pygments) is a sixth of the daemon's start, in each of its two
    processes: opening a register reads the stamp alone; only `migrate` and a fresh register load it."""
    url = f"sqlite:///{tmp_path}/r.db"
    Register(url, create=True).dispose()
    program = (
        f"import sys; from daemon.edges.register import Register; Register({url!r}); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_upgrading_a_register_of_revision_0006_indexes_the_date_of_receipt(tmp_path: Path) -> None:
    """Revision 0007 adds the index the register page sorted by received date reads (and a period's
    complaints): an index only, every row as it was, the chains still verify."""
    path = tmp_path / "register.db"
    shutil.copy(R0006, path)
    url = f"sqlite:///{path}"
    tables = (*R0004_TABLES, "history", "chain_head")
    before = {table: (columns(path, table), rows(path, table)) for table in tables}

    done = migrate(url, NOW)

    assert (done.before.current, done.after.current) == ("0006", "0007")
    for table, (names, old_rows) in before.items():
        assert rows(path, table, names) == old_rows, f"{table} changed in the upgrade"
    assert differences(url) == []
    assert verify_register(Register(url), AttachmentStore(tmp_path / "attachments")).ok
    with sqlite3.connect(path) as db:
        plan = db.execute("EXPLAIN QUERY PLAN SELECT id FROM complaint ORDER BY received_at DESC LIMIT 50").fetchall()
    assert "ix_complaint_received_at" in str(plan) and "TEMP B-TREE" not in str(plan), plan


R0007 = Path(__file__).parent / "data" / "register-0007.db"


def test_a_register_of_revision_0007_opens_and_keeps_its_erasure_and_its_waiting_letters(tmp_path: Path) -> None:
    """The previous release's register (a3b09c6): `migrate` brings it to the head without touching a
    row, its chains verify, the erased customer stays a pseudonym and the letters it had not sent yet
    are still owed."""
    path = upgraded_unchanged(R0007, tmp_path, 7, "0007")
    url = f"sqlite:///{path}"
    with Register(url).session() as session:
        erased = show_complaint(session, "REC-2032-000001")
        waiting = show_complaint(session, "REC-2032-000002")
    assert erased.customer_email.startswith("pseudonyme-")
    assert (waiting.status, waiting.customer_email) == ("received", "camille.durand@client.example")
    with sqlite3.connect(path) as db:
        owed = db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
    assert owed == 2, "the seventh complaint's acknowledgement and notification are still owed"
