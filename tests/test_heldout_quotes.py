"""The reply cutting measured on replies it was not written on (issue 14, item 7): tests/heldout.

Each held-out reply (Discourse's email_reply_trimmer suite, whose `trimmed/` file says what the
writer typed) goes through the daemon's own cut, `follow_up.new_text` on the parsed mail, as a
follow-up or a command mail is read. Two figures, printed and kept in the README:

* the share read right: the cut text is exactly the typed text (lines compared without their
  surrounding blanks);
* quoted commands read: in every reply whose typed part comes first, the typed text is replaced by
  two command lines and a third command is put first in the quote: with the attribution kept; with
  it deleted, as a handler may do; and the same as an HTML-only mail, the quote a blockquote (the
  case issue 14 saw read). The typed commands must be read and the quoted one never.
"""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from html import escape
from pathlib import Path

import pytest

from daemon.core.commands.tags import parse_commands
from daemon.core.follow_up import new_text
from daemon.core.htmltext import html_to_text
from daemon.core.parsing import parse

SUITE = Path(__file__).resolve().parent / "heldout" / "email_reply_trimmer"
TODAY = date(2026, 11, 30)
TYPED = ["#statut en cours", "#gravité haute"]
QUOTED = "#catégorie livraison"
# Measured at the commit that added this test: 50 of 64 read right. The 14 others keep quoted or
# signature lines with the typed text (German Google Inbox attributions wrapped over two lines, a
# bare date attribution, usenet "C>" and "|" quotes, an "Original Message" block, a bottom-posted
# reply, a quote-only mail, a "ᐧ" line above the signature) or, where the typed text sits below an
# attribution written above it, drop it (embedded_email_17, _18, forwarded_message). The test
# fails if the share falls.
RIGHT_AT_LEAST = 50


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _stripped(text: str) -> list[str]:
    return [line.strip() for line in _lines(text) if line.strip()]


def _cut(body: str, html: bool = False) -> str:
    message = EmailMessage()
    message["From"] = "alice@example.com"
    message["To"] = "reclamations@example.com"
    message["Subject"] = "RE: [REC-2026-000001] Colis abîmé"
    message.set_content(body, subtype="html" if html else "plain")
    return new_text(parse(message.as_bytes()))


def _replies() -> list[tuple[str, str, str]]:
    return [
        (path.name, path.read_text(encoding="utf-8"), (SUITE / "trimmed" / path.name).read_text(encoding="utf-8"))
        for path in sorted((SUITE / "emails").glob("*.txt"))
    ]


def _with_commands(body: str, typed: str, variant: str) -> str | None:
    """The reply with its typed text replaced by TYPED and QUOTED put first in its quote; None when
    the typed text does not come first (a bottom-posted or inline reply), nothing is quoted, or
    (variants without attribution) the quote is not marked with ">"."""
    lines, mine = _lines(body), _lines(typed.rstrip())
    if not mine or lines[: len(mine)] != mine:
        return None
    rest = lines[len(mine) :]
    if not any(line.strip() for line in rest):
        return None
    quoted = next((i for i, line in enumerate(rest) if line.startswith(">")), None)
    if variant == "attribution kept":
        if quoted is None:  # an unmarked quote (headers, an "Original Message" block): after its first line
            first = next(i for i, line in enumerate(rest) if line.strip())
            rest.insert(first + 1, QUOTED)
        else:
            rest.insert(quoted, f"> {QUOTED}")
        return "\n".join([*TYPED, "", *rest])
    if quoted is None:
        return None
    quote = [QUOTED, *(line[1:].removeprefix(" ") for line in rest[quoted:] if line.startswith(">"))]
    if variant == "attribution deleted":
        return "\n".join([*TYPED, "", *(f"> {line}" for line in quote)])
    # HTML only, attribution deleted: what issue 14 saw read (the quote is a blockquote, no ">" left).
    typed_html = "".join(f"<div>{escape(line)}</div>" for line in TYPED)
    quote_html = "".join(f"<div>{escape(line) or '<br>'}</div>" for line in quote)
    return f'<html><body>{typed_html}<br><blockquote type="cite">{quote_html}</blockquote></body></html>'


def test_the_held_out_set_is_present() -> None:
    replies = _replies()
    assert len(replies) == 64
    assert (SUITE.parent / "MANIFEST.tsv").read_text(encoding="utf-8").count("\n") == 1 + 2 * 64


def test_share_of_held_out_replies_cut_right() -> None:
    wrong = [name for name, body, typed in _replies() if _stripped(_cut(body)) != _stripped(typed)]
    right = 64 - len(wrong)
    print(f"\nheld-out replies read right: {right} of 64 ({right / 64:.0%}); not: {', '.join(wrong)}")
    assert right >= RIGHT_AT_LEAST, wrong


VARIANTS = ["attribution kept", "attribution deleted", "HTML only, attribution deleted"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_quoted_command_is_read_in_held_out_replies(variant: str) -> None:
    html = variant.startswith("HTML")
    cases = [(name, text) for name, body, typed in _replies() if (text := _with_commands(body, typed, variant))]
    assert len(cases) == (48 if variant == "attribution kept" else 25)
    quoted_read, typed_missed, uncut_would_read = [], [], 0
    for name, text in cases:
        read = [command.line for command in parse_commands(_cut(text, html), TODAY).commands]
        if QUOTED in read:
            quoted_read.append(name)
        if read[:2] != TYPED:
            typed_missed.append(name)
        whole = html_to_text(text) if html else text
        uncut_would_read += QUOTED in [command.line for command in parse_commands(whole, TODAY).commands]
    print(
        f"\nheld-out replies with commands, {variant}: {len(cases)}; typed commands read in"
        f" {len(cases) - len(typed_missed)}; quoted commands read: {len(quoted_read)}"
        f" (without the cut: {uncut_would_read})"
    )
    assert quoted_read == []
    assert typed_missed == []
    if html:
        assert uncut_would_read == len(cases), "without the cut every quoted command would be read"
