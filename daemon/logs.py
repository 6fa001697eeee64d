"""Logging set-up shared by the CLI and the sender process: one line per event on stderr.

Under systemd (JOURNAL_STREAM set) journald stamps each line itself, so the time is left out.
"""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(verbose: bool = False) -> None:
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=stamp + "%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # mail-parser warns about every part type it does not render; our parsing handles them.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
    for noisy in ("aiosmtplib", "apscheduler", "imapclient", "mail.log", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
