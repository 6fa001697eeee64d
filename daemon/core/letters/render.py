"""Rendering letters: every text a person reads comes out of a template, through this module.

Its sole purpose in life is to turn a template name and plain values into a `Letter` (subject, plain
text, HTML). It sends nothing, reads no clock and touches the disk only to load templates.

Theory of operation
-------------------
A letter named `acknowledgement` is three Jinja2 files in a language directory:
`acknowledgement.subject.j2`, `acknowledgement.txt.j2` and `acknowledgement.html.j2`. The built-in
directories are `templates/<language>/` (installed as `daemon/_templates/<language>/`). An admin may
name an override directory in the config: a file there with the same name wins over the built-in
one, file by file, so changing one subject does not mean copying every letter. The override
directory is flat (it holds the files for the configured language, not language sub-directories).

Safety first: HTML templates are autoescaped, because the customer writes the subject and the
attachment names (a subject of `<script>` must arrive as text); text and subject templates are not.
Undefined variables raise (`StrictUndefined`), so a typo in an admin's template fails at `check`
time or in tests, never as a blank in a customer's letter. The subject is folded to one line, so no
value can inject a header.

Dates are formatted by Babel in the letter's language, after conversion to the register's timezone:
`date` gives "lundi 7 décembre 2026" / "Monday, December 7, 2026", `datetime` adds the time
("… à 14:05" / "… at 2:05 PM"), `size` gives "50 ko" / "50 kB" (SI units, 1 ko = 1000 octets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

__all__ = [
    "AcknowledgementFacts",
    "AttachmentLine",
    "Letter",
    "Mediator",
    "Templates",
    "builtin_templates_dir",
    "render_acknowledgement",
]

# CLDR's "atTime" date-time patterns ({1} = date, {0} = time). Babel 2.18 ships only the plain
# "{1}, {0}" pattern, which reads badly in a sentence ("reçue le lundi 7 décembre 2026, 14:05").
_AT_TIME = {"fr": "{1} à {0}", "en": "{1} at {0}"}

# File size units, SI (powers of 1000), in the words each language uses.
_SIZE_UNITS = {
    "fr": ("octets", "ko", "Mo", "Go", "To"),
    "en": ("bytes", "kB", "MB", "GB", "TB"),
}
_BYTE_SINGULAR = {"fr": "octet", "en": "byte"}

_PARTS = ("subject", "txt", "html")


@dataclass(frozen=True)
class Letter:
    """One rendered letter: a one-line subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str

    def __post_init__(self) -> None:
        if not self.subject or "\n" in self.subject or "\r" in self.subject:
            raise ValueError(f"a letter's subject must be one non-empty line, not {self.subject!r}")


@dataclass(frozen=True)
class Mediator:
    """The mediator the company belongs to; the letters show only the fields that are set."""

    name: str
    website: str = ""
    address: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a mediator needs a name")


@dataclass(frozen=True)
class AttachmentLine:
    filename: str
    size: int  # bytes

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"attachment size cannot be negative: {self.size}")


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not {value!r}")


@dataclass(frozen=True)
class AcknowledgementFacts:
    """Everything the acknowledgement says. `customer_name` may be empty (the letter then opens
    "Madame, Monsieur,"); `subject` is the customer's own subject line, untrusted."""

    reference: str
    customer_name: str
    customer_email: str
    subject: str
    received_at: datetime
    answer_due_at: datetime
    attachments: tuple[AttachmentLine, ...]
    mediator: Mediator | None
    organisation: str

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError("an acknowledgement needs a reference")
        if not self.organisation.strip():
            raise ValueError("an acknowledgement needs an organisation to sign it")
        _require_aware("received_at", self.received_at)
        _require_aware("answer_due_at", self.answer_due_at)


def builtin_templates_dir() -> Path:
    """`daemon/_templates` in an installed wheel, else the repository's top-level `templates/`."""
    here = Path(__file__).resolve().parents[2]  # the daemon package
    packaged = here / "_templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


def available_languages(root: Path | None = None) -> tuple[str, ...]:
    """The languages with built-in templates: the directories of `root` that hold `*.j2` files."""
    root = root or builtin_templates_dir()
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.j2"))))


def _one_line(text: str) -> str:
    return " ".join(text.split())


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    # Admin templates are easier to write when stray spaces and blank lines do not matter:
    # trailing spaces go, runs of blank lines become one, and the body ends with one newline.
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


class Templates:
    """The letters of one language, with an optional override directory, in one timezone."""

    def __init__(
        self,
        language: str,
        override_dir: Path | None = None,
        timezone: ZoneInfo = ZoneInfo("Europe/Paris"),
    ) -> None:
        root = builtin_templates_dir()
        languages = available_languages(root)
        if language not in languages:
            raise ValueError(
                f"no templates for language {language!r}; available: {', '.join(languages) or 'none'}"
            )
        search = [root / language]
        if override_dir is not None:
            override_dir = Path(override_dir)
            if not override_dir.is_dir():
                raise ValueError(f"template override directory {str(override_dir)!r} is not a directory")
            search.insert(0, override_dir)

        self.language = language
        self.locale = Locale.parse(language)
        self.timezone = timezone
        self.override_dir = override_dir
        self.environment = Environment(
            loader=FileSystemLoader([str(p) for p in search], encoding="utf-8"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters.update(
            date=self.format_date,
            datetime=self.format_datetime,
            time=self.format_time,
            size=self.format_size,
            nl2br=_nl2br,
        )

    @classmethod
    def of(cls, register) -> "Templates":
        """The templates a register's letters use: its language, override directory and time zone."""
        return cls(register.language, register.templates, register.timezone)

    def _local(self, value: datetime) -> datetime:
        _require_aware("a date shown in a letter", value)
        return value.astimezone(self.timezone)

    def format_date(self, value: date | datetime) -> str:
        """"lundi 7 décembre 2026" / "Monday, December 7, 2026" (the local day for a datetime)."""
        day = self._local(value).date() if isinstance(value, datetime) else value
        return format_date(day, format="full", locale=self.locale)

    def format_time(self, value: datetime) -> str:
        """"14:05" / "2:05 PM", local time. Babel's narrow no-break space becomes a plain space."""
        local = self._local(value)
        return format_time(local.time(), format="short", locale=self.locale).replace("\u202f", " ")

    def format_datetime(self, value: datetime) -> str:
        """"lundi 7 décembre 2026 à 14:05" / "Monday, December 7, 2026 at 2:05 PM", local time."""
        pattern = _AT_TIME.get(self.locale.language, "{1}, {0}")
        return pattern.replace("{1}", self.format_date(value)).replace("{0}", self.format_time(value))

    def format_size(self, value: int) -> str:
        """"532 octets", "50 ko", "1,2 Mo" / "532 bytes", "50 kB", "1.2 MB" (SI units)."""
        units = _SIZE_UNITS.get(self.locale.language, _SIZE_UNITS["en"])
        amount = float(value)
        step = 0
        # 999.5 and up would round to "1000": move to the next unit first.
        while amount >= 999.5 and step < len(units) - 1:
            amount /= 1000
            step += 1
        if step == 0:
            # CLDR plural rules: "1 byte", "0 octet" / "1 octet".
            one = self.locale.plural_form(int(value)) == "one"
            word = _BYTE_SINGULAR.get(self.locale.language, "byte") if one else units[0]
            return f"{int(value)} {word}"
        # One decimal below 10 ("1,2 Mo"), none above ("50 ko"); never "1 000 ko" after rounding.
        pattern = "0.#" if amount < 10 else "0"
        return f"{format_decimal(amount, format=pattern, locale=self.locale)} {units[step]}"

    def render(self, name: str, **context: Any) -> Letter:
        """Render letter `name` from `<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2`.

        Raises jinja2.TemplateNotFound for a missing file, jinja2.UndefinedError for a variable the
        template uses but `context` lacks, and ValueError for an empty subject.
        """
        subject, text, html = (
            self.environment.get_template(f"{name}.{part}.j2").render(**context) for part in _PARTS
        )
        return Letter(subject=_one_line(subject), text=_tidy_text(text), html=html)


def _nl2br(value: str) -> Markup:
    """Escape a multi-line value (e.g. a postal address) and keep its line breaks in HTML."""
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


def _usable_name(name: str, email: str) -> str:
    # A display name that is an address (or the address itself) reads worse than "Madame, Monsieur".
    name = _one_line(name)
    if not name or "@" in name or name.casefold() == email.strip().casefold():
        return ""
    return name


def render_acknowledgement(templates: Templates, facts: AcknowledgementFacts) -> Letter:
    """The acknowledgement of receipt sent to the customer as soon as a complaint is registered.

    The templates see every field of `facts` by name (`reference`, `customer_name`, `subject`,
    `received_at`, `answer_due_at`, `attachments`, `mediator`, `organisation`, ...).
    """
    context = {f.name: getattr(facts, f.name) for f in fields(facts)}
    context["customer_name"] = _usable_name(facts.customer_name, facts.customer_email)
    context["subject"] = _one_line(facts.subject)
    return templates.render("acknowledgement", **context)
