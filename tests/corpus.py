"""Where the corpus of real messages is (tests/corpus, kept in the repository), and its MANIFEST.tsv as rows."""

from __future__ import annotations

import os
from pathlib import Path


def corpus_dir() -> Path:
    """tests/corpus in the repository; $COMPLAINTSD_CORPUS to try another copy."""
    override = os.environ.get("COMPLAINTSD_CORPUS")
    return Path(override) if override else Path(__file__).resolve().parent / "corpus"


def manifest() -> list[dict[str, str]]:
    """MANIFEST.tsv rows as dicts; [] when the corpus is missing (the presence tests fail then)."""
    path = corpus_dir() / "MANIFEST.tsv"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"), strict=False)) for line in lines[1:] if line]
