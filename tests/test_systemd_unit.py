"""The shipped units (the daemon, the web view), read by systemd's own tools: each verifies, and its
exposure stays at most 2.0.

`systemd-analyze` comes with Debian's `systemd` package; without it these tests are skipped, except
under CI (`CI=true`), where they fail (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import require
from tests.harness import ROOT

UNIT = ROOT / "systemd" / "complaintsd.service"
WEB_UNIT = ROOT / "systemd" / "complaintsd-web.service"
# Each unit, and the command its ExecStart= runs.
UNITS = pytest.mark.parametrize(("unit", "command"), [(UNIT, "run"), (WEB_UNIT, "web")], ids=["daemon", "web"])
MAX_EXPOSURE = 2.0
INSTALLED = "/opt/complaintsd"  # where the unit and the README say to install the venv


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    require(None if found else "systemd-analyze is not installed (Debian package `systemd`)")
    assert found is not None
    return found


def _here(unit: Path, tmp_path: Path) -> Path:
    """The unit as installed here: `verify` checks that ExecStart= names an executable, and this
    machine has the venv's complaintsd, not /opt/complaintsd's."""
    here = str(Path(sys.executable).parent / "complaintsd")
    assert Path(here).exists(), f"{here}: install the project first (make install)"
    text = unit.read_text(encoding="utf-8").replace(f"{INSTALLED}/bin/complaintsd", here)
    copy = tmp_path / unit.name
    copy.write_text(text, encoding="utf-8")
    return copy


@UNITS
def test_the_unit_verifies(unit: Path, command: str, tmp_path: Path):
    result = subprocess.run(
        [_analyze(), "verify", str(_here(unit, tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert unit.name not in result.stderr, result.stderr  # a warning about our unit


@UNITS
def test_the_unit_scores_at_most_2_and_the_readme_says_its_score(unit: Path, command: str, tmp_path: Path):
    result = subprocess.run(
        [_analyze(), "security", "--offline=true", str(_here(unit, tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(rf"Overall exposure level for {re.escape(unit.name)}: (\d+\.\d+) (\w+)", result.stdout)
    assert found, result.stdout + result.stderr
    score = float(found.group(1))
    assert score <= MAX_EXPOSURE, result.stdout
    named = "" if unit == UNIT else f" {unit.name}"  # the README names the web view's unit
    said = f"`systemd-analyze security{named}` rates it {found.group(1)} {found.group(2)}"
    assert said in (ROOT / "README.md").read_text(encoding="utf-8")


@UNITS
def test_the_units_documentation_is_a_file_pip_install_creates(unit: Path, command: str):
    """Documentation= names the README that pyproject.toml's shared-data installs beside the venv."""
    documentation = re.search(r"^Documentation=file://(\S+)$", unit.read_text(encoding="utf-8"), re.M)
    assert documentation, "Documentation=file://… in the unit"
    shared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]["shared-data"]
    installed = {f"{INSTALLED}/{target}": source for source, target in shared.items()}
    assert installed.get(documentation.group(1)) == "README.md", installed
    assert (ROOT / "README.md").is_file()
    assert f"ExecStart={INSTALLED}/bin/complaintsd {command} " in unit.read_text(encoding="utf-8")


REPORT_UNITS = ("complaintsd-report.service", "complaintsd-report.timer")


def test_the_monthly_report_timer_and_its_service_verify(tmp_path):
    """The example in systemd/: the timer starts the service on the 1st, which mails last month's report."""
    here = str(Path(sys.executable).parent / "complaintsd")
    for name in REPORT_UNITS:
        text = (ROOT / "systemd" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(f"{INSTALLED}/bin/complaintsd", here), encoding="utf-8")
    service = (ROOT / "systemd" / REPORT_UNITS[0]).read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED}/bin/complaintsd report --mail " in service
    result = subprocess.run(
        [_analyze(), "verify", *(str(tmp_path / name) for name in REPORT_UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "complaintsd-report" not in result.stderr, result.stderr
    timer = (ROOT / "systemd" / REPORT_UNITS[1]).read_text(encoding="utf-8")
    when = re.search(r"^OnCalendar=(.+)$", timer, re.M)
    assert when, "OnCalendar= in the timer"
    calendar = subprocess.run(
        [_analyze(), "calendar", "--iterations=2", when.group(1)], capture_output=True, text=True, timeout=60
    )
    assert calendar.returncode == 0 and calendar.stdout.count("-01 07:00:00") >= 2, "on the 1st of each month"
