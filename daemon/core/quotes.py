"""Find the new text of a reply: what its author wrote, without the quoted mail or the signature.

This module's sole purpose in life is `top_text(text_body, html_body) -> str`, a pure function: the
command grammar (`tags.py`) must only ever read what the handler typed, never the quoted complaint
below it (docs/design.md, "Commands by email": "never in quoted text"), and a handler's `#réponse` must
reach the customer without our own notification quoted under it. It never raises.

Theory of operation
-------------------
A reply is the new text, then (usually) an attribution ("Le … a écrit :", "On … wrote:", an
Outlook "De : / Envoyé : / À : / Objet :" block, "-------- Message d'origine --------") and the
quoted mail. We look for the first place where quoting starts and keep what is above it. Cutting
too early loses a few lines of the handler's text, which the confirmation mail shows them; cutting
too late could execute a tag the *customer* wrote in the quoted complaint. So every rule leans
towards cutting.

1. HTML-only replies (Outlook and Gmail on the web) are cut in the HTML first, where the client
   marked its quote unambiguously (`_QuoteStart`: Gmail's `gmail_quote`, any `<blockquote>`,
   Thunderbird's `moz-cite-prefix`, Outlook's `divRplyFwdMsg`/`appendonsend` and its border-top
   separator, Hotmail's `stopSpelling`, Yahoo's `yahoo_quoted`, Zimbra's `zwchr` and
   `data-marker`), then rendered with
   `htmltext.html_to_text`.
2. `>` quoting (`_unquote`). When the text above the first `>` block starts with a `#tag` line,
   it is a command mail written on top: cut there, with the attribution paragraph just above the
   block, so nothing under the first quote (a stray unprefixed line, the customer's words) can
   join the handler's commands. Otherwise (nothing above: Thunderbird's bottom-posting; or prose
   above: inline answers under a greeting, email_tricky_19) drop every `>` block, its
   attribution, and the continuation lines some clients leave unprefixed after a long quoted
   line, and keep the rest. That is safe for the grammar: commands are read at the top only,
   and prose on top ends the command block before any kept line below it.
3. Our cut rules (`cut_rules.py`), for what mail-parser-reply misses (docs/notes.md, "Reply-quote
   stripping", measured on tests/corpus/replies): Gmail's attribution wrapped over two or three
   lines (`crisp-email-reply-parser/email_fr_multiline.txt`), dash separators such as
   `-------- Message d'origine --------` (`email_french_dash_separator.txt`), Zimbra's
   `- Le … a écrit :` (`willdurand-emailreplyparser/email_issue_77.txt`), header blocks in
   French and ten other languages (`new_outlook_2019_fr_body.txt`), forward intros, Outlook's
   underscore line, mobile footers ("Envoyé de mon iPhone"), the French webmails' attributions
   (Zimbra's `----- Mail original -----`, Orange's and SFR's `Message du 07/12/26 10:00`, Horde's
   `Selon … :`, Lotus Notes' author line wrapped above its date), and the signature delimiter "-- "
   (RFC 3676 section 4.3; "--" too, since clients strip the trailing space).
4. mail-parser-reply 1.36 (`_library_cut`) on what is left, for the many client formats it knows
   (its languages: `LANGUAGES`). It may raise; then our rules stand alone.

The earliest cut wins. The measured share of corpus replies cut where a person would cut them,
with and without our rules, is printed by tests/test_quotes.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from daemon.core.cut_rules import ATTRIBUTION_LINES, clean, dated, first_cut, loose_attribution
from daemon.core.htmltext import html_to_text

__all__ = ["LANGUAGES", "top_text"]

# The languages mail-parser-reply 1.36 knows (constants.MAIL_LANGUAGES), minus Polish: its Polish
# header rule cuts at a single line starting "Data:", "Do:" or "Od:", which ordinary French or
# English text can start with. Our own header-block rule knows the Polish field names.
LANGUAGES = ("fr", "en", "de", "es", "it", "nl", "da", "sv", "cs", "ja", "zh", "ko")

# A quoted line: RFC 3676 section 4.5 quoting, as every plain-text client writes it.
_QUOTED = re.compile(r"^[ \t]*>")
# A rule line that a cut leaves at the end of the new text (github-email-reply-parser/email_2_1.txt).
_DECORATION = re.compile(r"^[-_=*~]{5,}$")
# How far above a `>` block its attribution may sit (how many lines it may wrap over: cut_rules.py).
_ATTRIBUTION_GAP = 2
# A line this long was probably wrapped by the client; its unprefixed continuation is still quoted.
_WRAP_WIDTH = 60
# Only this many lines of a reply are read: no one types more above a quote, and the rules cost
# about 0.1 ms a line, so a text bomb cannot hold the ingestion for long.
_MAX_LINES = 5000
# mail-parser-reply reads each line up to this length: no header is longer, and its patterns
# backtrack on long lines (1.6 s on email_long_quote.txt).
_LIBRARY_LINE_MAX = 1000
_STYLE_MAX = 2000


def top_text(text_body: str, html_body: str = "") -> str:
    """The new text of a reply: above its quoted part and its signature, without trailing blank lines.

    `text_body` wins when it has any text; otherwise `html_body` is cut at its quote and rendered.
    Never raises.
    """
    text = text_body if isinstance(text_body, str) else ""
    html = html_body if isinstance(html_body, str) else ""
    if not text.strip():
        text = html_to_text(_drop_html_quote(html)) if html.strip() else ""
    return _join(_top_lines(_lines(text)))


# --- HTML ------------------------------------------------------------------------------------------


class _QuoteStart(HTMLParser):
    """Finds where the first quote a mail client marked in the HTML begins, as (line, column)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is None and _is_quote_element(tag, attrs):
            self.found = self.getpos()

    handle_startendtag = handle_starttag


def _is_quote_element(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    values = {name.lower(): (value or "").lower() for name, value in attrs}
    classes = values.get("class", "").split()
    ident = values.get("id", "")
    style = re.sub(r"\s+", "", values.get("style", "")[:_STYLE_MAX])
    if tag == "blockquote":
        return True  # Gmail, Apple Mail and Thunderbird (type=cite), Yandex and Mail.ru (bare).
    if {"gmail_quote", "gmail_quote_container", "gmail_attr", "moz-cite-prefix", "yahoo_quoted"} & set(classes):
        return True
    if ident in ("divrplyfwdmsg", "x_divrplyfwdmsg", "appendonsend", "stopspelling") or ident.startswith(
        "yahoo_quoted"
    ):
        return True
    if "outlookmessageheader" in classes:
        return True
    if tag == "hr" and values.get("tabindex") == "-1":
        return True  # Outlook 2003's separator (talon/ms_outlook_2003.html).
    if (tag == "hr" and ident == "zwchr") or values.get("data-marker") in ("__headers__", "__quoted_text__"):
        return True  # Zimbra (Free, many French companies): its separator and its quoted parts.
    # Outlook 2007+ and Windows Mail draw their separator as a div with a solid top border
    # (talon/ms_outlook_2007.html, talon/windows_mail.html).
    return tag in ("div", "p") and re.search(r"border-top(?:-style)?:[^;]*solid", style) is not None


def _drop_html_quote(html: str) -> str:
    """`html` up to the first quote its client marked (everything below a quote start is quoted)."""
    finder = _QuoteStart()
    try:
        finder.feed(html)
        finder.close()
    except (AssertionError, ValueError):
        pass  # html.parser gives up on some broken markup; what it found so far stands.
    if finder.found is None:
        return html
    line, column = finder.found
    starts = [0, *(match.end() for match in re.finditer("\n", html))]
    return html[: starts[min(line, len(starts)) - 1] + column]


# --- lines -----------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").split("\n")
    return lines[:_MAX_LINES]


def _join(lines: list[str]) -> str:
    """The lines as text, without blank lines around it or a separator line left at its end."""
    start, end = 0, len(lines)
    while start < end and not clean(lines[start]):
        start += 1
    while end > start and (not clean(lines[end - 1]) or _DECORATION.match(clean(lines[end - 1]))):
        end -= 1
    return "\n".join(lines[start:end]).rstrip()


def _top_lines(lines: list[str]) -> list[str]:
    kept = _unquote(lines)
    ours = first_cut(kept)
    kept = kept[:ours]
    return kept[: _library_cut(kept)]


# --- `>` quoting -----------------------------------------------------------------------------------


def _unquote(lines: list[str]) -> list[str]:
    """Commands on top: the lines above the first `>` block. Otherwise: the lines outside every block."""
    first = next((i for i, line in enumerate(lines) if _QUOTED.match(line)), None)
    if first is None:
        return lines
    start = _attribution_start(lines, first)
    above = [clean(line) for line in lines[:start] if clean(line)]
    if above and above[0].startswith("#"):
        return lines[:start]
    return _outside_quotes(lines)


def _attribution_start(lines: list[str], quote: int) -> int:
    """Where the attribution of the `>` block starting at `quote` begins (`quote` when it has none).

    The attribution is the last one to three lines of the paragraph just above the block (at most
    `_ATTRIBUTION_GAP` blank lines above it), read as one line. Its test (`loose_attribution`) is
    looser than the cut rules', since the quote below confirms it: a colon at the end and a time, an
    address or a verb ("On Mon, Jun 3, 2024 at 12:53=E2=80=AFAM Cody Hart <…> w=\\nrote:" in
    begins_with_signature.txt).
    """
    end = quote - 1
    while end >= 0 and quote - 1 - end < _ATTRIBUTION_GAP and not clean(lines[end]):
        end -= 1
    if end < 0 or not clean(lines[end]):
        return quote
    # The shortest candidate that starts on a line with a digit (the date) wins, so neither the
    # address line of a wrapped attribution nor the "Regards," above it decides.
    matches = []
    for size in range(1, ATTRIBUTION_LINES + 1):
        begin = end - size + 1
        if begin < 0 or not clean(lines[begin]):
            break
        if loose_attribution(" ".join(clean(line) for line in lines[begin : end + 1])):
            matches.append(begin)
    with_date = [begin for begin in matches if dated(lines[begin])]
    return (with_date or matches or [quote])[0]


def _outside_quotes(lines: list[str]) -> list[str]:
    """The lines outside every `>` block, its attribution and its unprefixed wrapped continuations."""
    dropped = [False] * len(lines)
    previous_long = False
    for i, line in enumerate(lines):
        quoted = bool(_QUOTED.match(line)) or (previous_long and bool(clean(line)))
        if quoted:
            if i == 0 or not dropped[i - 1]:
                for j in range(_attribution_start(lines, i), i):
                    dropped[j] = True
            dropped[i] = True
        previous_long = quoted and len(line.rstrip()) >= _WRAP_WIDTH
    kept: list[str] = []
    for line, drop in zip(lines, dropped, strict=True):
        blank = not clean(line)
        # A dropped block leaves one blank line between the paragraphs around it.
        if drop or blank:
            if kept and clean(kept[-1]):
                kept.append("")
        else:
            kept.append(line)
    return kept


# --- mail-parser-reply -----------------------------------------------------------------------------


def _library_cut(lines: list[str]) -> int:
    """The line where mail-parser-reply sees the first quote header; len(lines) when it sees none.

    The library strips every line and may drop Outlook separator lines before matching, so its cut
    is found again in our lines by the header's first line, at or after the same line number.
    """
    from mailparser_reply import EmailReplyParser  # here: only a reply needs it, not the daemon's start

    try:
        text = "\n".join(line[:_LIBRARY_LINE_MAX] for line in lines)
        message = EmailReplyParser(languages=list(LANGUAGES)).read(text)
        replies, normalized = message.replies, message.text
    # mail-parser-reply is young and regex-heavy; this is the boundary where its failure means
    # "our rules alone" (the brief for this module: a library failure must not escape).
    except Exception:
        return len(lines)
    if not replies:
        return len(lines)
    first = replies[0]
    if first.headers:
        return 0  # Nothing above the first header: the whole text is quoted.
    if len(replies) == 1:
        return len(lines)
    lead = len(normalized) - len(normalized.lstrip())
    end = lead + len(first.content)
    header_at = end + len(normalized[end:]) - len(normalized[end:].lstrip())
    number = normalized.count("\n", 0, header_at)
    header_line = normalized[header_at:].split("\n", 1)[0].strip()
    for j in range(number, len(lines)):
        if lines[j][:_LIBRARY_LINE_MAX].strip() == header_line:
            return j
    return min(number, len(lines))
