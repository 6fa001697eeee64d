"""Read the commands a handler typed at the top of a reply: `#tag value` lines, in French or English.

This module's sole purpose in life is `parse_commands(top, today) -> Commands`, a pure function of
the reply's new text (already cut by `quotes.top_text`) and of today's date (passed in: no clock is
read here). It returns what to do and what was not understood; the register applies the commands,
checks them against the lifecycle table, and the letters explain the problems with `grammar()`.
It never raises.

Theory of operation
-------------------
The grammar, from docs/design.md ("Commands by email (status tags)"): "Lines of the form `#tag value`
at the top of the reply (never in quoted text) are commands. French and English words, case- and
accent-insensitive." In ABNF (RFC 5234), on one line of the text (WSP includes no-break space)::

    reply        = *blank-line [block] *any-line
    block        = command-line *( *blank-line command-line )   ; docs/design.md: "at the top"
    command-line = *WSP "#" tag-word [ *WSP ":" ] *WSP value
    tag-word     = letter *( letter / DIGIT / "_" / "-" )       ; folded, see words.TAG_WORDS

Words and values are compared folded (`routing.fold`: no case, no accents), so `#Réponse`,
`#REPONSE` and `#reponse` are one tag; the French and English words themselves are in `words.py`.
Where docs/design.md leaves the grammar open, the decisions are:

1. The block starts at the first non-blank line and ends at the first line that is not a command
   line; blank lines between commands are allowed. Nothing below the block is a command: "#1" in
   prose, a hashtag three paragraphs down, or a tag under a greeting ("Bonjour,\\n#statut …") is
   text. A line that starts with "#" and a letter but names no tag is a command line that failed
   (`Reason.UNKNOWN_TAG`), so the handler hears about a typo instead of seeing it ignored.
2. `#reply` / `#réponse` takes the rest of its line and every line after it as the answer to the
   customer, and ends the block. A known tag line inside that text means the handler put `#reply`
   before another command; sending "#clore fondée" to the customer would be wrong, so the reply
   is refused (`Reason.TAG_IN_REPLY`).
3. `#note` takes the rest of its line and the following lines up to a blank line or the next
   command line (one paragraph).
4. `#status` sets only `in_progress` ("en cours") or `reopened` ("rouvert"). `received` and
   `acknowledged` are the daemon's; `answered` comes from `#reply` and `closed` from `#close`,
   which carry the answer and the outcome those statuses need (`Reason.STATUS_NOT_SETTABLE`).
5. Dates are day first (French practice): 15/12/2026, 15/12/26, 15.12.2026, 2026-12-15,
   "15 décembre 2026", "lundi 15 déc. 2026", "December 15, 2026". A date before `today` is a
   problem; today is allowed. A date without a year is a problem, not a guess.
6. Spacing is generous around the value (`#statut: en cours`, `#statut : en cours`, leading
   spaces), but "# statut en cours" (space after "#") is a problem for a known tag and plain
   text for any other word, since "# Title" is how people write headings.
7. Never execute something ambiguous: a value must match a known form in full ("#statut en cours
   je regarde" is a problem), `#assign` needs exactly one address, "grave" is neither high nor
   critical, and the same tag given twice with different values executes neither
   (`Reason.CONFLICT`). Repeating a tag with the same value is harmless and kept once.
8. The evaluation tags of issue 9: `#complexity`, `#impact` and `#scope` take one word like
   `#severity`; `#related` takes exactly one reference (several complaints: several lines, each
   kept); `#wish` and `#cause` take a paragraph like `#note`, and several `#cause` lines are
   several causes. Whether a related reference exists is known only to the register (plan.py),
   and a cause's category (`#cause livraison: colis mal étiqueté`) only to the configuration
   (`[causes] categories`, read by evaluation.read_cause from plan.py).
9. `#compensation` takes a type word (refund / remboursement, credit / avoir, service /
   prestation, apology / excuses, other / autre), then optionally an amount (50, 49,90, 49.90,
   50€) and a currency (an ISO code, € or "euros"); nothing else may follow. An amount without a
   currency keeps none: the letter states the amount as given, never a guessed currency.
10. `#inform` / `#informer` (interim news to the customer, not the answer) takes its text as
    `#reply` does (decision 2): the rest of the mail, written last, no tag line inside.
11. `#action <kind> <text> [@owner] [day]` creates an action (kind curative, corrective or
    preventive; the owner's address after "@" and the due day end the line, in either order; a
    past day is a problem); `#action <n> faite|efficace|abandonnée <raison>` (done, verified,
    abandoned <reason>) moves action n on. Several #action lines, several actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from daemon.core.commands.evaluation import (
    ActionMove,
    NewAction,
    read_action,
    read_compensation,
    read_complexity,
    read_impact,
    read_reference,
    read_scope,
)
from daemon.core.commands.words import (
    OUTCOME_WORDS,
    SETTABLE_STATUSES,
    SEVERITY_WORDS,
    STATUS_WORDS,
    TAG_WORDS,
    UNSETTABLE_WORDS,
    Compensation,
    CompensationType,
    Complexity,
    Impact,
    Outcome,
    Reason,
    Scope,
    Severity,
    Tag,
    as_words,
    grammar,
    read_date,
)
from daemon.core.lifecycle import Status
from daemon.core.references import REFERENCE
from daemon.core.routing import fold

__all__ = [
    "SETTABLE_STATUSES",
    "Command",
    "ActionMove",
    "Commands",
    "Compensation",
    "CompensationType",
    "Complexity",
    "Impact",
    "NewAction",
    "Outcome",
    "Problem",
    "Reason",
    "Scope",
    "Severity",
    "Tag",
    "grammar",
    "parse_commands",
]


# A command line's head: "#", the tag word, then the value (decision 6 for the spaces).
_HEAD = re.compile(r"#([ \t\xa0]*)([^\W\d_][\w-]*)(.*)", re.DOTALL)
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060"))
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class Command:
    """One understood command. `value` is typed per tag (see `_VALUE_TYPES`); `line` is the line as typed."""

    tag: Tag
    value: str | date | Compensation | NewAction | ActionMove | None
    line: str

    def __post_init__(self) -> None:
        tag = Tag(self.tag)
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "value", _checked_value(tag, self.value))
        if not isinstance(self.line, str) or not self.line.strip():
            raise ValueError(f"a {tag.value} command needs the line it came from")


def _checked_value(tag: Tag, value: object) -> str | date | Compensation | NewAction | ActionMove | None:
    """`value` as the type `tag` carries; ValueError when it cannot be one."""
    if tag is Tag.HELP:
        if value is not None:
            raise ValueError("#help carries no value")
        return None
    if tag is Tag.DEADLINE:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"a deadline is a date, not {value!r}")
        return value
    if tag is Tag.ACTION:
        if not isinstance(value, NewAction | ActionMove):
            raise ValueError(f"an action command is a NewAction or an ActionMove, not {value!r}")
        return value
    if tag is Tag.COMPENSATION:
        if not isinstance(value, Compensation):
            raise ValueError(f"a compensation is a Compensation, not {value!r}")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"#{tag.value} needs a non-empty text value, not {value!r}")
    if tag is Tag.STATUS:
        if value not in SETTABLE_STATUSES:
            raise ValueError(f"#status cannot set {value!r}")
        return Status(value)
    if tag is Tag.SEVERITY:
        return Severity(value)
    if tag is Tag.CLOSE:
        return Outcome(value)
    if tag in _WORD_VALUES:
        return _WORD_VALUES[tag](value)
    if tag is Tag.RELATED and not REFERENCE.fullmatch(value):
        raise ValueError(f"#related needs one complaint reference, not {value!r}")
    if tag is Tag.ASSIGN and (value != value.lower() or not _ADDRESS.fullmatch(value)):
        raise ValueError(f"#assign needs one lower-case email address, not {value!r}")
    return value


_WORD_VALUES: dict[Tag, type] = {Tag.COMPLEXITY: Complexity, Tag.IMPACT: Impact, Tag.SCOPE: Scope}
# Tags whose value is the paragraph that follows (decisions 3 and 8), and tags that may be repeated.
_PARAGRAPH_TAGS = frozenset({Tag.NOTE, Tag.WISH, Tag.CAUSE})
_REPEATABLE = frozenset({Tag.NOTE, Tag.HELP, Tag.RELATED, Tag.CAUSE, Tag.ACTION})


@dataclass(frozen=True)
class Problem:
    """A command line that was not understood, and why (one of `Reason`); `detail` completes the
    reason with what only the configuration knows (the valid cause categories)."""

    line: str
    reason: str
    detail: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.line, str):
            raise ValueError(f"a problem needs the line it came from, not {self.line!r}")
        object.__setattr__(self, "reason", Reason(self.reason))


@dataclass(frozen=True)
class Commands:
    """Everything the top of one reply asked for, in the order written, and what was not understood."""

    commands: tuple[Command, ...] = ()
    problems: tuple[Problem, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "commands", tuple(self.commands))
        object.__setattr__(self, "problems", tuple(self.problems))
        if not all(isinstance(c, Command) for c in self.commands):
            raise ValueError("commands must be Command values")
        if not all(isinstance(p, Problem) for p in self.problems):
            raise ValueError("problems must be Problem values")

    @property
    def has_commands(self) -> bool:
        """Whether this is a command mail: it gets a confirmation or an error letter (docs/design.md)."""
        return bool(self.commands or self.problems)


# --- parsing ---------------------------------------------------------------------------------------


def parse_commands(top: str, today: date) -> Commands:
    """The commands at the top of `top` (a reply's new text), read with the grammar above. Never raises."""
    lines = top.replace("\r\n", "\n").replace("\r", "\n").split("\n") if isinstance(top, str) else []
    found: list[Command | Problem] = []
    i = 0
    while i < len(lines):
        line = _clean(lines[i])
        if not line:
            i += 1
            continue
        head = _head(line)
        if head is None:
            break  # Decision 1: the first line that is not a command ends the block.
        tag, value, problem = head
        if problem is not None:
            found.append(Problem(line, problem))
        elif tag in (Tag.REPLY, Tag.INFORM):
            found.append(_reply(tag, line, value, lines[i + 1 :]))
            break
        elif tag in _PARAGRAPH_TAGS:
            paragraph = _paragraph(lines[i + 1 :])
            found.append(_note(tag, line, "\n".join([value, *paragraph]).strip()))
            i += len(paragraph)
        else:
            assert tag is not None  # _head gives no tag only with a problem
            found.append(_command(tag, value, line, today))
        i += 1
    return _resolve(found)


def _clean(line: str) -> str:
    return line.translate(_INVISIBLE).strip()


def _head(line: str) -> tuple[Tag | None, str, Reason | None] | None:
    """(tag, value, problem) for a command line; None for a line that is not one (decisions 1, 6)."""
    match = _HEAD.match(line)
    if match is None:
        return None
    spaced, word, rest = match.groups()
    tag = TAG_WORDS.get(fold(word))
    if spaced:
        return (tag, "", Reason.SPACE_AFTER_HASH) if tag is not None else None
    if tag is None:
        return None, "", Reason.UNKNOWN_TAG
    value = rest.strip()
    if value.startswith(":"):
        value = value[1:].strip()
    return tag, value, None


def _is_tag_line(line: str) -> bool:
    head = _head(_clean(line))
    return head is not None and head[0] is not None


_words = as_words


def _command(tag: Tag, value: str, line: str, today: date) -> Command | Problem:
    if tag is Tag.HELP:
        return Command(tag, None, line)
    if not value:
        return Problem(line, Reason.NO_ADDRESS if tag is Tag.ASSIGN else Reason.MISSING_VALUE)
    reader = _READERS[tag]
    result = reader(value, today)
    return Problem(line, result) if isinstance(result, Reason) else Command(tag, result, line)


def _status(value: str, today: date) -> Status | Reason:
    words = _words(value)
    if words in STATUS_WORDS:
        return STATUS_WORDS[words]
    if words in UNSETTABLE_WORDS:
        return Reason.STATUS_NOT_SETTABLE
    return Reason.UNKNOWN_STATUS


def _severity(value: str, today: date) -> Severity | Reason:
    return SEVERITY_WORDS.get(_words(value), Reason.UNKNOWN_SEVERITY)


def _category(value: str, today: date) -> str:
    return value


def _assignee(value: str, today: date) -> str | Reason:
    # Outlook's text part writes a link as "bob@x.fr<mailto:bob@x.fr>": one address, twice.
    addresses = {address.lower() for address in _ADDRESS.findall(value.replace("mailto:", " "))}
    return addresses.pop() if len(addresses) == 1 else Reason.NO_ADDRESS


def _outcome(value: str, today: date) -> Outcome | Reason:
    return OUTCOME_WORDS.get(_words(value), Reason.UNKNOWN_OUTCOME)


def _deadline(value: str, today: date) -> date | Reason:
    day = read_date(" ".join(fold(value).split()).rstrip("."))
    if day is None:
        return Reason.BAD_DATE
    return Reason.PAST_DATE if day < today else day


_READERS = {
    Tag.STATUS: _status,
    Tag.SEVERITY: _severity,
    Tag.CATEGORY: _category,
    Tag.ASSIGN: _assignee,
    Tag.DEADLINE: _deadline,
    Tag.CLOSE: _outcome,
    Tag.COMPLEXITY: read_complexity,
    Tag.IMPACT: read_impact,
    Tag.SCOPE: read_scope,
    Tag.RELATED: read_reference,
    Tag.COMPENSATION: read_compensation,
    Tag.ACTION: read_action,
}


def _paragraph(lines: list[str]) -> list[str]:
    """The lines continuing a #note: up to a blank line or the next command line (decision 3)."""
    taken: list[str] = []
    for line in lines:
        if not _clean(line) or _head(_clean(line)) is not None:
            break
        taken.append(line.rstrip())
    return taken


def _note(tag: Tag, line: str, text: str) -> Command | Problem:
    return Command(tag, text, line) if text else Problem(line, Reason.MISSING_VALUE)


def _reply(tag: Tag, line: str, first: str, rest: list[str]) -> Command | Problem:
    """#reply: the rest of its line and every line after it (decision 2)."""
    if any(_is_tag_line(other) for other in rest):
        return Problem(line, Reason.TAG_IN_REPLY)
    body = [first, *(other.rstrip() for other in rest)]
    while body and not body[0].strip():
        body.pop(0)
    text = "\n".join(body).rstrip()
    if not text:
        return Problem(line, Reason.EMPTY_REPLY if tag is Tag.REPLY else Reason.MISSING_VALUE)
    return Command(tag, text, line)


def _resolve(found: list[Command | Problem]) -> Commands:
    """Decision 7: a tag given twice with different values executes neither; the same value, once."""
    values: dict[Tag, set] = {}
    for item in found:
        if isinstance(item, Command) and item.tag not in _REPEATABLE:
            values.setdefault(item.tag, set()).add(item.value)
    commands: list[Command] = []
    problems: list[Problem] = []
    seen: set[tuple[Tag, object]] = set()
    for item in found:
        if isinstance(item, Problem):
            problems.append(item)
        elif len(values.get(item.tag, ())) > 1:
            problems.append(Problem(item.line, Reason.CONFLICT))
        elif item.tag is Tag.NOTE or _key(item) not in seen:
            commands.append(item)
            seen.add(_key(item))
    return Commands(tuple(commands), tuple(problems))


def _key(command: Command) -> tuple[Tag, object]:
    """What makes a command a repeat: its tag, and for a repeatable tag its value too."""
    return (command.tag, command.value if command.tag in _REPEATABLE else None)
