"""Printing an HTML page to PDF with Debian's headless Chromium (`apt install chromium`).

Chromium is the one well-kept HTML-to-PDF engine that honours print CSS (`@page size: A4`) and ships
in Debian; the page is handed over as a file in a private temporary directory, with the network
disabled, and the PDF read back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from daemon.errors import PrintError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 120  # seconds: a cold start on a loaded machine takes a few


def chromium() -> str | None:
    """Where Chromium is, or None: `COMPLAINTSD_CHROMIUM` names it, else the PATH is searched."""
    named = os.environ.get("COMPLAINTSD_CHROMIUM")
    if named:
        return shutil.which(named)
    return next(filter(None, map(shutil.which, CANDIDATES)), None)


def print_pdf(page: str) -> bytes:
    """The PDF of `page` (self-contained HTML), printed by Chromium with its print CSS."""
    binary = chromium()
    if binary is None:
        raise PrintError("--format pdf needs Chromium (apt install chromium); --format html gives the same page")
    with tempfile.TemporaryDirectory(prefix="complaintsd-pdf-") as tmp:
        source, target = Path(tmp) / "sheet.html", Path(tmp) / "sheet.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",  # as root, or in a container without user namespaces, it will not start otherwise
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--proxy-server=127.0.0.1:9",  # nothing leaves, whatever the page holds
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PrintError(f"Chromium did not print the PDF within {TIMEOUT} s") from None
        if not target.exists() or target.stat().st_size == 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise PrintError(f"Chromium printed no PDF (exit status {done.returncode}): {last}")
        return target.read_bytes()
