"""`complaintsd check` creates nothing and names every failing part on its own line.

A typo in a path used to become a new empty register (numbering from 1 again), a new Maildir that
`check` then called "answered", or "internal error: FileNotFoundError".
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from daemon.edges.register import Register
from tests.harness import cli


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(tmp_path: Path, *, database: str, maildir: Path, storage: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{maildir}"
[smtp]
host = "127.0.0.1"
port = {_closed_port()}
tls = "none"
from = "reclamations@example.com"
timeout = "2s"
[database]
url = "{database}"
[storage]
path = "{storage}"
[[handlers]]
name = "Bob"
email = "bob@example.com"
[routing]
default_handler = "bob@example.com"
supervisor = "qualite@example.com"
""",
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    return path


def _everything(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_typos_everywhere_each_fail_on_their_own_line_and_nothing_is_created(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    database = f"sqlite:///{blocker}/sub/register.db"  # its folder cannot be created
    maildir = tmp_path / "mail" / "reclamatoins"  # mistyped
    config = _config(tmp_path, database=database, maildir=maildir, storage=blocker / "attachments")
    before = _everything(tmp_path)
    result = cli(config, "check")
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"config: {config} is valid",
        f"FAIL database: no register at {blocker}/sub/register.db (database.url = {database}): "
        "`complaintsd migrate` creates it; check creates nothing",
        f"FAIL storage.path: {blocker}/attachments does not exist and cannot be created "
        f"({blocker} is not a writable folder)",
        result.stdout.splitlines()[3],  # templates: N letters render (fr, built-in), below
        f"FAIL mailbox: maildir {maildir} is not a Maildir (no new/, cur/ and tmp/ folders): check mailbox.path",
        result.stdout.splitlines()[-1],
    ]
    assert result.stdout.splitlines()[-1].startswith("FAIL smtp: ")
    assert re.fullmatch(r"templates: \d+ letters render \(fr, built-in\)", result.stdout.splitlines()[3])
    assert _everything(tmp_path) == before


def test_a_sound_setup_passes_and_folders_still_to_create_are_named_not_made(tmp_path):
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    database = f"sqlite:///{tmp_path / 'register.db'}"
    Register(database, create=True).dispose()
    config = _config(tmp_path, database=database, maildir=maildir, storage=tmp_path / "attachments")
    before = _everything(tmp_path)
    lines = cli(config, "check").stdout.splitlines()
    assert (
        f"storage: {tmp_path}/attachments does not exist yet; the daemon creates it in {tmp_path}, which is writable"
        in lines
    )
    assert f"mailbox: maildir:{maildir} is a Maildir; run will create Registered, Quarantine" in lines
    assert [line for line in lines if line.startswith("database: ")], lines
    assert [line for line in lines if line.startswith("FAIL")] == [next(x for x in lines if x.startswith("FAIL smtp"))]
    assert _everything(tmp_path) == before


def test_status_on_a_mistyped_register_says_so_and_creates_nothing(tmp_path):
    database = f"sqlite:///{tmp_path}/registre/register.db"
    config = _config(tmp_path, database=database, maildir=tmp_path / "maildir", storage=tmp_path / "attachments")
    before = _everything(tmp_path)
    result = cli(config, "status")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"complaintsd: database: no register at {tmp_path}/registre/register.db (database.url = {database}); "
        "nothing created\n"
    )
    assert _everything(tmp_path) == before
