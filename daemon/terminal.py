"""What the command line prints of a stranger's words: never their control characters raw.

A subject, a name, a file name or a body written by whoever mails the public address reaches the
admin's terminal through `show`, `list` and `quarantine`. Written raw, `\\x1b[2J` clears the screen,
an OSC sequence retitles the window or plants a link, a carriage return overwrites the line before
it, and a bidi override (U+202E) reorders what is read (Trojan Source). Each such character is shown
as a visible stand-in instead: C0 controls as their Unicode control pictures (ESC → "␛", CR → "␍"),
DEL as "␡", C1 controls and the bidi/format controls as escapes ("\\x9b", "\\u202e"). Newline and
tab are kept where a body is printed, and shown too where a line must stay one line.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace
from typing import TypeVar

T = TypeVar("T")

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, keep: str = "\n\t") -> str:
    """`text` with every control character but those in `keep` replaced by a visible stand-in."""
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _stand_in(m), text)


def visible_line(text: str) -> str:
    """One line of a table or a field: newlines and tabs shown too."""
    return visible(text, keep="")


def made_visible(value: T, multiline: frozenset[str] = frozenset()) -> T:
    """A frozen view (dataclass, tuple, string) with every string in it made visible: one-line
    (`visible_line`) except the dataclass fields named in `multiline` (a body keeps its lines).
    Everything `show` and `list` print goes through here, so a new field cannot be forgotten."""
    if isinstance(value, str):
        return visible_line(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(made_visible(item, multiline) for item in value)  # type: ignore[return-value]
    if is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: visible(v) if f.name in multiline and isinstance(v, str) else made_visible(v, multiline)
            for f in fields(value)
            if isinstance(v := getattr(value, f.name), str | tuple) or is_dataclass(v)
        }
        return replace(value, **changes)
    return value
