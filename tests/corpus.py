"""Where the shared corpus of real messages is, and its MANIFEST.tsv as rows (shared by tests)."""

from __future__ import annotations

import os
from pathlib import Path


def corpus_dir() -> Path:
    """shared/corpus next to the project; $COMPLAINTSD_CORPUS when that is absent."""
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if default.is_dir() or not os.environ.get("COMPLAINTSD_CORPUS"):
        return default
    return Path(os.environ["COMPLAINTSD_CORPUS"])


def manifest() -> list[dict[str, str]]:
    """MANIFEST.tsv rows as dicts; [] when the corpus is missing (the presence tests fail then)."""
    path = corpus_dir() / "MANIFEST.tsv"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"))) for line in lines[1:] if line]
