"""The rules that say where quoting (or the signature) starts in the plain lines of a reply.

`first_cut(lines)` is the first line where one of them matches: an attribution ("Le … a écrit :"),
a dash separator, a header block in one of a dozen languages, a forward intro, Outlook's underscore
line, a mobile footer, or the "-- " signature delimiter (quotes.py, rule 3, says why each exists).
`quotes.top_text` keeps what is above it; it also borrows the looser attribution test for `>` blocks.
"""

from __future__ import annotations

import re

from daemon.core.routing import fold

__all__ = ["ATTRIBUTION_LINES", "clean", "dated", "first_cut", "loose_attribution"]


def _folded(pattern: str) -> re.Pattern[str]:
    """A pattern for folded text, folded itself: NFKD turns "ジ" into "シ" plus a mark that fold drops."""
    return re.compile(fold(pattern))


# Characters that clients sprinkle invisibly and that must not hide a rule's match.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060"))

# A time or an address: what every attribution line carries and ordinary sentences rarely do.
# Every pattern is bounded or applied to short text only (_ATTRIBUTION_MAX): a reply may hold a
# megabyte-long line (github-email-reply-parser/email_long_quote.txt).
_TIME = re.compile(r"(?<!\d)\d{1,2}[:h.]\d{2}(?!\d)")
_ADDRESS = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# "…<bob@example.com>:" — the Russian, Japanese, Yandex and Mail.ru attributions have no verb.
_ADDRESS_END = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\s*[>)\]»]?\s*[:：]\s*$")
# An attribution ends with a colon (Zoho: with dashes).
_ATTRIBUTION_END = re.compile(r"(?:[:：]|-{2,})\s*$")
# The verbs of attribution lines in the corpus languages, compared on folded text (no accents).
_VERB = _folded(
    r"(?<!\w)(?:wrote|writes|a ecrit|ont ecrit|schrieb|escribio|ha scritto|schreef|escreveu|skrev|kirjoitti"
    r"|napisał\(a\)|napisal|nadesłał|napsal\(a\)|написал\(а\)|написала|написал|написав|пишет|a scris)(?!\w)"
    r"|写道"
)

# Dash separators: "-------- Message d'origine --------", "-----Original Message-----",
# "---------- Forwarded message ---------", "----- Message transmis ----- De : …" (Yahoo, on one
# line), "---- On … wrote ----" (Zoho). Folded text.
_SEPARATOR = _folded(
    r"^-{2,}\s*(?:original message|message d'origine|message original|message transfere|message transmis"
    r"|mail original|mail d'origine|mail transfere"
    r"|forwarded message|forwarded|ursprungliche nachricht|weitergeleitete nachricht|oprindelig"
    r"|videresendt|mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato"
    r"|oorspronkelijk bericht|doorgestuurd bericht|mensagem original|mensagem encaminhada"
    r"|alkuperainen viesti|ursprungligt meddelande|vidarebefordrat|oryginalna wiadomosc"
    r"|przekazana wiadomosc|исходное сообщение|пересланное сообщение|перенаправленное сообщение"
    r"|メッセージを転送|原始邮件|转发邮件|on .*(?:wrote|a ecrit))"
)
# Apple Mail's forward intro, in the languages of the corpus.
_FORWARD_INTRO = _folded(
    r"^(?:begin forwarded message|debut du message reexpedie|inicio del mensaje reenviado"
    r"|anfang der weitergeleiteten nachricht|inizio messaggio inoltrato)\s*:"
)
# The French webmails (issue 14: an attribution must never reach a customer in a #réponse), folded:
# Orange's and SFR's "Message du 07/12/26 10:00" above their header block, Horde/IMP's (Free's old
# webmail) "Selon Camille <c@free.fr>:" and "Citation de …:", and "Camille <c@free.fr> a écrit :"
# without a date (Free, IMP). Each needs the date or an address in angle brackets and the colon.
_WEBMAIL_INTRO = _folded(
    r"^(?:message du \d{1,2}/\d{1,2}/\d{2,4}(?:\s+\d{1,2}[:h]\d{2}(?::\d{2})?)?\s*$"
    r"|(?:selon|citation(?: de)?|quoting)\s+[^<>\n]{0,120}<[^<>@\s]{1,64}@[^<>\s]{1,255}>\s*[:：]\s*$"
    r"|\"?[^\"<>@\n]{0,100}\"?\s*<[^<>@\s]{1,64}@[^<>\s]{1,255}>\s*(?:a ecrit|wrote)\s*[:：]\s*$)"
)
# Lotus Notes wraps its attribution: the author alone on a line, then "a écrit sur 07/12/2026 10:00 :"
# (or, in its memo layout, the date alone) on the next. The author line is cut with it.
_MAILBOX_LINE = re.compile(r'^"?[^"<>@\n]{0,100}"?\s*<[^<>@\s]{1,64}@[^<>\s]{1,255}>$|^[\w.+-]{1,64}@[\w.-]{1,255}$')
_NOTES_DATE = _folded(
    r"^(?:(?:a ecrit|wrote) (?:sur|on) )?\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]m)?\s*[:：]?\s*$"
)
# Outlook's separator line above its header block.
_UNDERSCORES = re.compile(r"^_{20,}$")
# Mobile and webmail footers: the end of what the person typed. Folded text, a short line.
_FOOTER = _folded(
    r"^(?:sent from my |sent from mail for windows|sent from outlook|sent from yahoo|get outlook for"
    r"|sent with (?:sparrow|airmail|spark|proton|bluemail|blue mail|newton)"
    r"|envoye de mon |envoye depuis (?:mon|ma|l'application|outlook|yahoo|gmail)"
    r"|envoye a partir de (?:mon|ma|outlook)"
    r"|obtenir outlook pour|telecharger outlook pour|von meinem .* gesendet|gesendet von (?:meinem|outlook|mail)"
    r"|inviato da (?:il mio|mio|iphone|outlook)|enviado desde (?:mi|outlook)|enviado do meu "
    r"|verzonden vanaf (?:mijn|outlook)"
    r"|verstuurd vanaf mijn|skickat fran min|sendt fra min|wysłano z )"
)
_FOOTER_MAX = 80

# Header-block field names (folded), as the clients of the corpus write them. A block needs a
# sender field and one other, so a letter's "Objet : …" line in a #réponse is not a cut.
_SENDER_FIELDS = frozenset(
    fold(name) for name in "from de von van da fra från od от 发件人 寄件人 差出人 送信元 寄件者 lähettäjä".split()
)
_OTHER_FIELDS = frozenset(
    fold(name)
    for name in [
        *"sent to subject date cc bcc envoye a objet sujet pour datum an betreff gesendet aan verzonden".split(),
        *"onderwerp inviato oggetto data enviado para asunto fecha sendt til emne dato skickat till amne".split(),
        *"wysłano do temat dw кому тема дата отправлено копия 收件人 发送时间 主题 抄送 日付 件名 送信先 宛先".split(),
        "copie a",
        "reply-to",
        "repondre a",
    ]
)
_FIELD = re.compile(r"^[ \t*]*([^\W\d_][^:：*\n]{0,24}?)[ \t*]*[:：]")
_HEADER_BLOCK_LINES = 7

# How many lines an attribution may wrap over.
ATTRIBUTION_LINES = 3
_ATTRIBUTION_MAX = 400


def clean(line: str) -> str:
    """`line` without the invisible characters and the spaces around it."""
    return line.translate(_INVISIBLE).strip()


def first_cut(lines: list[str]) -> int:
    """The first line where quoting or the signature starts; len(lines) when none does."""
    return next((i for i in range(len(lines)) if _cut_here(lines, i)), len(lines))


def _cut_here(lines: list[str], i: int) -> bool:
    """Whether quoting (or the signature) starts at line `i`. A `#tag` line never starts it."""
    line = clean(lines[i])
    if not line or line.startswith("#"):
        return False
    if line == "--":
        return True  # RFC 3676's "-- " signature delimiter, trailing space stripped or not.
    folded = fold(line[:_ATTRIBUTION_MAX])  # Every rule below reads the start of the line only.
    if _SEPARATOR.match(folded) or _FORWARD_INTRO.match(folded) or _UNDERSCORES.match(line):
        return True
    if len(line) <= _FOOTER_MAX and _FOOTER.match(folded):
        return True
    if _WEBMAIL_INTRO.match(folded) or _notes_author(lines, i):
        return True
    return _header_block(lines, i) or _attribution_at(lines, i)


def _notes_author(lines: list[str], i: int) -> bool:
    """Lotus Notes' wrapped attribution starts at `i`: an author line, then its date (see above)."""
    line = clean(lines[i])
    if len(line) > _ATTRIBUTION_MAX or i + 1 >= len(lines) or not _MAILBOX_LINE.match(line):
        return False
    return bool(_NOTES_DATE.match(fold(clean(lines[i + 1])[:_ATTRIBUTION_MAX])))


def _field(line: str) -> str | None:
    """The folded field name when `line` reads like a mail header line ("De : …", "*From:* …")."""
    match = _FIELD.match(clean(line))
    if match is None:
        return None
    name = " ".join(fold(match.group(1)).split())
    return name if name in _SENDER_FIELDS or name in _OTHER_FIELDS else None


def _header_block(lines: list[str], i: int) -> bool:
    """A header block starts at `i`: a sender field and another one within one paragraph."""
    if _field(lines[i]) is None:
        return False
    fields: set[str] = set()
    for line in lines[i : i + _HEADER_BLOCK_LINES]:
        if not clean(line):
            break
        name = _field(line)
        if name is not None:
            fields.add(name)
    return bool(fields & _SENDER_FIELDS) and len(fields) >= 2


def _attribution_at(lines: list[str], i: int) -> bool:
    """An attribution with no `>` quote under it starts at `i`, possibly wrapped over three lines.

    Strict, since nothing below confirms it: its first line has a digit (the date), it ends with a
    colon, and it has a time or an address, and an attribution verb or an address just before the
    colon. "Something wrote:" (willdurand-emailreplyparser/email_23_1.txt) is therefore new text.
    """
    if not dated(lines[i]):
        return False
    parts: list[str] = []
    for line in lines[i : i + ATTRIBUTION_LINES]:
        part = clean(line)
        if not part or (parts and part.startswith("#")):
            break
        parts.append(part)
        candidate = " ".join(parts)
        if _strict_attribution(candidate):
            return True
    return False


def dated(line: str) -> bool:
    """Whether `line` has a digit outside any address: where an attribution's date sits."""
    return len(line) <= _ATTRIBUTION_MAX and any(c.isdigit() for c in _ADDRESS.sub("", line))


def _strict_attribution(candidate: str) -> bool:
    if len(candidate) > _ATTRIBUTION_MAX or not _ATTRIBUTION_END.search(candidate):
        return False
    if not (_TIME.search(candidate) or _ADDRESS.search(candidate)):
        return False
    return bool(_VERB.search(fold(candidate)) or _ADDRESS_END.search(candidate))


def loose_attribution(candidate: str) -> bool:
    """An attribution above a `>` block: the quote below confirms it, so a colon at the end and a
    time, an address or a verb suffice (`quotes._attribution_start`)."""
    if len(candidate) > _ATTRIBUTION_MAX or candidate.startswith("#") or not _ATTRIBUTION_END.search(candidate):
        return False
    return bool(_TIME.search(candidate) or _ADDRESS.search(candidate) or _VERB.search(fold(candidate)))
