"""The command line's own mistakes: `--version`, and every usage error one line on stderr, exit 1
(argparse alone prints the usage and the error on two lines and exits 2), with the valid values."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from daemon.edges.register import Register
from daemon.shell import _parser
from tests.harness import ROOT, _env


def complaintsd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", *args], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60
    )


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{tmp_path / "maildir"}"
[smtp]
host = "127.0.0.1"
tls = "none"
from = "reclamations@example.com"
[database]
url = "sqlite:///{tmp_path / "register.db"}"
[storage]
path = "{tmp_path / "attachments"}"
[[handlers]]
name = "Alice"
email = "alice@example.com"
[[handlers]]
name = "Bob"
email = "bob@example.com"
[routing]
default_handler = "bob@example.com"
supervisor = "qualite@example.com"
""",
        encoding="utf-8",
    )
    Register(f"sqlite:///{tmp_path / 'register.db'}", create=True).dispose()
    return path


def test_version_is_the_installed_release():
    result = complaintsd("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"complaintsd {version('complaintsd')}\n", "")


# Every command the parser knows, as argparse lists them: the one-line form is what is tested here.
COMMANDS = ", ".join(
    repr(name)
    for name in next(a for a in _parser()._actions if a.dest == "command").choices  # type: ignore[union-attr]
)


@pytest.mark.parametrize(
    "args, line",
    [
        ((), "complaintsd: the following arguments are required: COMMAND (see complaintsd --help)"),
        (
            ("frob",),
            f"complaintsd: argument COMMAND: invalid choice: 'frob' (choose from {COMMANDS}) (see complaintsd --help)",
        ),
        (("list", "--bogus"), "complaintsd: unrecognized arguments: --bogus (see complaintsd --help)"),
        (
            ("show",),
            "complaintsd show: the following arguments are required: reference (see complaintsd show --help)",
        ),
        (
            ("list", "--status"),
            "complaintsd list: argument --status: expected one argument (see complaintsd list --help)",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_exit_1(args, line):
    result = complaintsd(*args)
    assert (result.returncode, result.stderr, result.stdout) == (1, line + "\n", "")


def test_an_unknown_status_names_the_valid_ones(config):
    result = complaintsd("list", "--status", "bogus", "--config", str(config))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "complaintsd: --status bogus: not one of received, acknowledged, in_progress, answered, closed, reopened\n"
    )
    assert complaintsd("list", "--status", "In_Progress", "--config", str(config)).returncode == 0


def test_an_unknown_handler_names_the_configured_ones_and_a_known_one_lists_nothing(config):
    result = complaintsd("list", "--handler", "carol@example.com", "--config", str(config))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "complaintsd: --handler carol@example.com: not a handler of the config or of any complaint "
        "(handlers: alice@example.com, bob@example.com)\n"
    )
    known = complaintsd("list", "--handler", "Bob@Example.com", "--config", str(config))
    assert (known.returncode, known.stdout, known.stderr) == (0, "no complaints in the register\n", "")
