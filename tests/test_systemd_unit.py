"""The shipped unit, read by systemd's own tools: it verifies, and its exposure stays at most 2.0.

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
MAX_EXPOSURE = 2.0
INSTALLED = "/opt/complaintsd"  # where the unit and the README say to install the venv


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    require(None if found else "systemd-analyze is not installed (Debian package `systemd`)")
    assert found is not None
    return found


@pytest.fixture
def unit_here(tmp_path) -> Path:
    """The unit as installed here: `verify` checks that ExecStart= names an executable, and this
    machine has the venv's complaintsd, not /opt/complaintsd's."""
    here = str(Path(sys.executable).parent / "complaintsd")
    assert Path(here).exists(), f"{here}: install the project first (make install)"
    text = UNIT.read_text(encoding="utf-8").replace(f"{INSTALLED}/bin/complaintsd", here)
    copy = tmp_path / "complaintsd.service"
    copy.write_text(text, encoding="utf-8")
    return copy


def test_the_unit_verifies(unit_here):
    result = subprocess.run([_analyze(), "verify", str(unit_here)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "complaintsd.service" not in result.stderr, result.stderr  # a warning about our unit


def test_the_unit_scores_at_most_2_and_the_readme_says_its_score(unit_here):
    result = subprocess.run(
        [_analyze(), "security", "--offline=true", str(unit_here)], capture_output=True, text=True, timeout=60
    )
    found = re.search(r"Overall exposure level for complaintsd\.service: (\d+\.\d+) (\w+)", result.stdout)
    assert found, result.stdout + result.stderr
    score = float(found.group(1))
    assert score <= MAX_EXPOSURE, result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`systemd-analyze security` rates it {found.group(1)} {found.group(2)}" in readme


def test_the_units_documentation_is_a_file_pip_install_creates():
    """Documentation= names the README that pyproject.toml's shared-data installs beside the venv."""
    documentation = re.search(r"^Documentation=file://(\S+)$", UNIT.read_text(encoding="utf-8"), re.M)
    assert documentation, "Documentation=file://… in the unit"
    shared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]["shared-data"]
    installed = {f"{INSTALLED}/{target}": source for source, target in shared.items()}
    assert installed.get(documentation.group(1)) == "README.md", installed
    assert (ROOT / "README.md").is_file()
    assert f"ExecStart={INSTALLED}/bin/complaintsd run" in UNIT.read_text(encoding="utf-8")
