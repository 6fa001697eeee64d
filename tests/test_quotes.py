"""daemon.core.quotes.top_text on every real reply of tests/corpus/replies, on the rules docs/notes.md names,
and the safety property the command grammar relies on: a tag in quoted text never survives.

The corpus table (docs/style.md item 16) has one row per reply file: a short string from the new text
that must be in the top text (its last line, so a cut above it fails) and one from the quoted part
that must not (its first line, attribution or separator, so a cut below it fails). EMPTY means the
file holds no new text at all (a bare forward). Each expectation was written by reading the file,
not from our output. Files where a person could defend another cut are in DEBATABLE, with why.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailparser_reply import EmailReplyParser

from daemon.core.commands.tags import Tag, parse_commands
from daemon.core.htmltext import html_to_text
from daemon.core.parsing import parse
from daemon.core.quotes import LANGUAGES, top_text
from tests.corpus import corpus_dir, manifest


def reply_rows() -> list[dict[str, str]]:
    rows = manifest()
    return [row for row in rows if row["category"] in ("reply", "reply-body", "forward-body")]


ROWS = reply_rows()
TODAY = date(2026, 12, 7)  # parse_commands reads no clock
EMPTY = ""  # must_in EMPTY: the top text must be empty

# (path under replies/, must be in the top text, must not be in it)
CASES: dict[str, tuple[str | None, str | None]] = {
    # Forward bodies: the whole text is the forwarded mail.
    "crisp-email-forward-parser/apple_mail_es_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/apple_mail_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/gmail_de_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/gmail_en_body_variant_15.txt": ("Aliquam eget dui dui.", "Forwarded message"),
    "crisp-email-forward-parser/gmail_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/hubspot_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/hubspot_ja_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/new_outlook_2019_en_body_variant_14.txt": ("Aliquam eget dui dui.", "From: John Doe"),
    "crisp-email-forward-parser/new_outlook_2019_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/outlook_2013_en_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/outlook_2019_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/outlook_live_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/thunderbird_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/thunderbird_ru_body.txt": (EMPTY, "john.doe@acme.com"),
    "crisp-email-forward-parser/yahoo_fr_body.txt": (EMPTY, "john.doe@acme.com"),
    # Crisp's fixtures: new text ending "...aliquet nec nec nibh.", then the quote.
    "crisp-email-reply-parser/email_danish_dash_separator.txt": ("nec nec nibh", "Oprindelig besked"),
    "crisp-email-reply-parser/email_emoji.txt": ("\U0001f389", None),
    "crisp-email-reply-parser/email_en_multiline_2.txt": ("nec nec nibh", "John - Acme"),
    "crisp-email-reply-parser/email_finnish.txt": ("nec nec nibh", "John Coe"),
    "crisp-email-reply-parser/email_fr_multiline.txt": ("nec nec nibh", "John - Acme"),
    "crisp-email-reply-parser/email_french_2.txt": ("nec nec nibh", "Chris - Crisp"),
    "crisp-email-reply-parser/email_french_dash_separator.txt": ("nec nec nibh", "Message d'origine"),
    "crisp-email-reply-parser/email_german.txt": ("nec nec nibh", "schrieb"),
    "crisp-email-reply-parser/email_german_2.txt": ("nec nec nibh", "Von: John Doe"),
    "crisp-email-reply-parser/email_german_3.txt": ("nec nec nibh", "Hi there!"),
    "crisp-email-reply-parser/email_german_outlook.txt": ("nec nec nibh", "Ursprüngliche Nachricht"),
    "crisp-email-reply-parser/email_gmail_split_line_from.txt": ("nec nec nibh", "The Hiring Engine"),
    "crisp-email-reply-parser/email_ios_outlook.txt": ("nec nec nibh", "From: The Hiring Engine"),
    "crisp-email-reply-parser/email_ios_outlook_fr.txt": ("nec nec nibh", "From: The Hiring Engine"),
    "crisp-email-reply-parser/email_italian.txt": ("nec nec nibh", "ha scritto"),
    "crisp-email-reply-parser/email_msn.txt": ("nec nec nibh", "From: The Hiring Engine"),
    "crisp-email-reply-parser/email_original_message.txt": ("nec nec nibh", "original message"),
    "crisp-email-reply-parser/email_outlook_split_line_from.txt": ("nec nec nibh", "From: Human Resources"),
    "crisp-email-reply-parser/email_portuguese.txt": ("nec nec nibh", "escreveu"),
    "crisp-email-reply-parser/email_reply_header.txt": ("it could happen TWICE!", "Mister Example"),
    "crisp-email-reply-parser/email_russian.txt": ("nec nec nibh", "doe@example.com"),
    "crisp-email-reply-parser/email_tricky_14_long_quote_header.txt": ("nec nec nibh", "John William Smith"),
    "crisp-email-reply-parser/email_tricky_15_original_message_variations.txt": ("nec nec nibh", "Original Message"),
    "crisp-email-reply-parser/email_tricky_17_forward_header.txt": (
        "See the forwarded message below.",
        "Forwarded message",
    ),
    "crisp-email-reply-parser/email_tricky_18_inline_reply.txt": ("Option C is not suitable", "opinion on option A"),
    "crisp-email-reply-parser/email_tricky_19_quote_without_header.txt": ("And my final thoughts.", "quoted section"),
    "crisp-email-reply-parser/email_tricky_1_on_false_positive.txt": ("performance is great", None),
    "crisp-email-reply-parser/email_tricky_2_url_with_wrote.txt": ("Best regards,", None),
    "crisp-email-reply-parser/email_tricky_4_from_in_body.txt": ("This is the actual message content.", None),
    "crisp-email-reply-parser/email_tricky_5_mixed_languages.txt": ("nec nec nibh", "Pierre Dubois"),
    "crisp-email-reply-parser/email_tricky_9_nested_quotes.txt": ("I agree with the points below.", "Jane Doe"),
    "crisp-email-reply-parser/email_zoho.txt": ("running a test?", "john@gmail.com"),
    # Complete messages (.eml), read through daemon.core.parsing.parse.
    "django-helpdesk/forwarded-message.eml": ("This is email body", "Original Message"),
    "imap-tools/forwarded_message.eml": (EMPTY, None),  # the forward is an attached message/rfc822
    "mikel-mail/raw_email_reply.eml": ("Message body", None),
    "talon/android.eml": ("Hello", "bob@xxx.mailgun.org"),
    "talon/aol.eml": ("Hello", "Original Message"),
    "talon/apple_mail.eml": ("Hello", "bob wrote"),
    "talon/apple_mail_2.eml": ("Hello", "Adam Renberg"),
    "talon/comcast.eml": ("Hello", "Original Message"),
    "talon/gmail.eml": ("Hello", "Megan One"),
    "talon/hotmail.eml": ("Hello", "Subject: Test"),
    "talon/iphone.eml": ("Hello", "bob@example.com"),
    "talon/outlook.eml": ("Hello", "xxx@xxx.mailgun.org"),
    "talon/reply-quotations-share-block.eml": ("Joe XXX", "new booking inquiry"),
    "talon/sparrow.eml": ("Hello", "4:55 PM"),
    "talon/thunderbird.eml": ("Hello", "Megan One"),  # bottom-posted under the quote
    "talon/yahoo.eml": ("Hello", "Original Message"),
    # HTML bodies (talon), read as HTML-only replies.
    "talon/gmail.html": ("I am fine", "How are you"),
    "talon/hotmail.html": ("I am fine", "How are you"),
    "talon/mail_ru.html": ("I am fine", "Alexander L"),
    "talon/ms_outlook_2003.html": ("I am fine", "Alexander L"),
    "talon/ms_outlook_2007.html": ("I am fine", "Alexander L"),
    "talon/ms_outlook_2010.html": ("I am fine", "Foo [mailto"),
    "talon/thunderbird.html": ("I am fine", "Alexander L"),
    "talon/windows_mail.html": ("I am fine", "Alexander L"),
    "talon/yandex_ru.html": ("I am fine", "Alexander L"),
    # github/email_reply_parser's fixtures.
    "github-email-reply-parser/email_1_1.txt": ("-Abhishek Kona", "riak-users mailing list"),
    "github-email-reply-parser/email_1_2.txt": ("delete them all individually", "What is the best way"),
    "github-email-reply-parser/email_1_3.txt": ("-Abhishek Kona", "Russell Brown wrote"),
    "github-email-reply-parser/email_1_8.txt": ("and under this.", "here's some stuff I can write"),
    "github-email-reply-parser/email_2_1.txt": ("Outlook with a reply", "Google Apps Sync Team"),
    "github-email-reply-parser/email_BlackBerry.txt": ("Here is another email", "Sent from my BlackBerry"),
    "github-email-reply-parser/email_bullets.txt": ("and another", "examples@email.goalengine.com"),
    "github-email-reply-parser/email_iPhone.txt": ("Here is another email", "Sent from my iPhone"),
    "github-email-reply-parser/email_sig_delimiter_in_middle_of_line.txt": ("kthxbai", None),
    "github-email-reply-parser/greedy_on.txt": ("the tunnel is not working", "George Plymale"),
    "github-email-reply-parser/pathological.txt": ("back to a computer", "John Sullivan"),
    # mail-parser-reply's fixtures.
    "mail-parser-reply/begins_with_signature.txt": ("hope you can join", "Cody Hart"),
    "mail-parser-reply/caution.txt": ("job at our end", "This message w/attachments"),
    "mail-parser-reply/caution2.txt": ("Thank you for your help!", None),
    "mail-parser-reply/email_danish_1.txt": ("Anders Andersen", "Peter Petersen"),
    "mail-parser-reply/email_danish_2.txt": ("Jeg har modtaget filerne.", "Fra: Hanne"),
    "mail-parser-reply/email_danish_5.txt": ("Svar.", None),
    "mail-parser-reply/email_ja_1_1.txt": ("こんにちは", None),
    "mail-parser-reply/email_ja_1_2.txt": ("よろしくお願いいたします", "田中太郎"),
    "mail-parser-reply/email_nl_1_1.txt": ("-Maarten de Jong", "riak-gebruikers mailing list"),
    "mail-parser-reply/email_sv_anon_1.txt": ("070-0000000", "Person B <person.b@email.com>"),
    "mail-parser-reply/email_swedish_1.txt": ("Person B", "Person A <person.a@email.com>"),
    "mail-parser-reply/email_swedish_2.txt": ("/John", "Anna Andersson <anna"),
    "mail-parser-reply/forward.txt": ("Best regards", None),
    "mail-parser-reply/multi_header.txt": ("start a new order", "XYZ <xyz@xyz.com>"),
    "mail-parser-reply/multiline_on_de.txt": ("Am heutigen Tage", "noreply@github.com"),
    "mail-parser-reply/outlook.txt": ("+00 0000 000 000", "Get Outlook for iOS"),
    # willdurand/EmailReplyParser's fixtures.
    "willdurand-emailreplyparser/email_22.txt": ("nec nec nibh", "Company Questions"),
    "willdurand-emailreplyparser/email_23.txt": ("nec nec nibh", "support@domain.com"),
    "willdurand-emailreplyparser/email_23_1.txt": ("nec nec nibh", "support@domain.com"),  # "Something wrote:" stays
    "willdurand-emailreplyparser/email_issue_77.txt": ("Text paragraph 2", "a écrit"),
    "willdurand-emailreplyparser/email_ls-l.txt": ("sess_25tni1suqgasqk8osnmk098sc6", "glen"),  # "-- " signature
    "willdurand-emailreplyparser/email_norwegian_gmail.txt": ("nec nec nibh", "Test user"),
    "willdurand-emailreplyparser/email_w10_mail.txt": ("going for a test now", "From: Bort"),
    "willdurand-emailreplyparser/email_zimbra_free_en.txt": ("Michael Scott", "Toby Flenderson"),
    "willdurand-emailreplyparser/email_zimbra_free_fr.txt": ("Michael Scott", "Toby Flenderson"),
    # zapier/email-reply-parser's fixtures.
    "zapier-email-reply-parser/email_2_3.txt": ("unusual format", "Kim via Site"),
    "zapier-email-reply-parser/email_gmail.txt": ("inbox replying to a github message", "Steven Scott"),
    "zapier-email-reply-parser/email_headers_no_delimiter.txt": ("And another reply!", "Dan Watson"),
    "zapier-email-reply-parser/email_partial_quote_header.txt": ("the tunnel is not working", "George Plymale"),
}

# Files whose right cut a person could argue either way; what we still check, and why.
DEBATABLE: dict[str, tuple[str | None, str | None, str]] = {
    "mail-parser-reply/email_pl_1_1.txt": (
        EMPTY,
        None,
        "the body starts with a header block (Od:/Wysłano:/Temat:), as a pasted or forwarded mail does; "
        "the library's own test reads the text under it as the reply, we read it all as quoted, so the "
        "tags of a forwarded mail never run",
    ),
    "mail-parser-reply/email_pl_1_2.txt": (
        EMPTY,
        "anna.nowak@example.com",
        "same header block first, with a quoted reply below it",
    ),
    "github-email-reply-parser/email_long_quote.txt": (
        "running a test?",
        None,
        "a 750 KB stress file: after the question come a 707 KB line of '>' and a 59 KB line "
        "'A>>>…' that no person would call either new text or a quote",
    ),
}


def read_reply(path: str) -> tuple[str, str]:
    """(text body, HTML body) of a corpus reply: .eml through daemon.core.parsing, .html as HTML only."""
    file = corpus_dir() / "replies" / path
    if path.endswith(".eml"):
        mail = parse(file.read_bytes())
        return mail.text_body, mail.html_body
    text = file.read_bytes().decode("utf-8", errors="replace")
    return ("", text) if path.endswith(".html") else (text, "")


def library_alone(text: str, html: str) -> str:
    """What mail-parser-reply's `parse_reply` gives on the same text, with none of our rules."""
    source = text if text.strip() else html_to_text(html)
    try:
        return EmailReplyParser(languages=list(LANGUAGES)).parse_reply(source) or ""
    except Exception:  # measured, not hidden: a raise counts as a wrong cut
        return source


def cut_right(top: str, must_in: str | None, must_not: str | None) -> bool:
    if must_in == EMPTY and top.strip():
        return False
    if must_in and must_in not in top:
        return False
    return not (must_not and must_not in top)


# --- the corpus table -----------------------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert (corpus_dir() / "MANIFEST.tsv").is_file(), f"corpus missing at {corpus_dir()} (set COMPLAINTSD_CORPUS)"
    assert len(ROWS) == 115, f"expected 16 + 84 + 15 reply files, MANIFEST lists {len(ROWS)}"


def test_every_reply_file_has_exactly_one_row() -> None:
    assert ROWS, f"corpus missing at {corpus_dir()}"
    listed = {row["path"].removeprefix("replies/") for row in ROWS}
    assert not set(CASES) & set(DEBATABLE)
    assert set(CASES) | set(DEBATABLE) == listed


@pytest.mark.parametrize("path", sorted(CASES))
def test_cut_where_a_person_cuts(path: str) -> None:
    if not ROWS:
        pytest.fail(f"corpus missing at {corpus_dir()}")
    must_in, must_not = CASES[path]
    top = top_text(*read_reply(path))
    assert cut_right(top, must_in, must_not), f"top text was:\n{top}"
    assert top == top.rstrip() and not top.startswith("\n")


@pytest.mark.parametrize("path", sorted(DEBATABLE))
def test_debatable_files(path: str) -> None:
    if not ROWS:
        pytest.fail(f"corpus missing at {corpus_dir()}")
    must_in, must_not, _why = DEBATABLE[path]
    started = time.perf_counter()
    top = top_text(*read_reply(path))
    assert time.perf_counter() - started < 5
    assert cut_right(top, must_in, must_not), f"top text was:\n{top}"


# The share of the table (debatable files excluded) that is cut right, printed by `pytest -s`.
# Measured with mail-parser-reply 1.36: the library alone 62/112 (55%), with our rules 112/112.
# The corpus was also where our rules were developed, so the threshold leaves room for the next
# client format we have not seen; it is not a promise of 100% on new mail.
THRESHOLD = 0.97


def test_share_cut_right_library_alone_and_with_our_rules() -> None:
    if not ROWS:
        pytest.fail(f"corpus missing at {corpus_dir()}")
    ours = alone = 0
    misses: list[str] = []
    for path, (must_in, must_not) in sorted(CASES.items()):
        text, html = read_reply(path)
        if cut_right(top_text(text, html), must_in, must_not):
            ours += 1
        else:
            misses.append(path)
        alone += cut_right(library_alone(text, html), must_in, must_not)
    total = len(CASES)
    print(
        f"\nreply files cut where a person cuts them ({total} files, {len(DEBATABLE)} debatable left out): "
        f"mail-parser-reply alone {alone}/{total} = {alone / total:.1%}; "
        f"with our rules {ours}/{total} = {ours / total:.1%}"
    )
    assert ours / total >= THRESHOLD, misses
    assert ours > alone


# --- the rules docs/notes.md says the library misses ----------------------------------------------------

RULES = [
    # (what the reply's text body holds, its top text)
    (
        "Merci, c'est noté.\n\nLe lun. 7 déc. 2026 à 10:00, Camille <\ncamille@x.fr> a écrit :\n\n"
        "Bonjour, ma commande…",
        "Merci, c'est noté.",
    ),
    (
        "Vu.\n\nLe lun. 7 déc. 2026 à 10:00, Camille Durand-Lefebvre\n<camille@x.fr>\na écrit :\nBonjour",
        "Vu.",
    ),
    ("Bien reçu.\n\n-------- Message d'origine --------\nDe : Camille\nBonjour", "Bien reçu."),
    ("OK.\n\n-------- Original Message --------\nFrom: Camille\nHello", "OK."),
    ("D'accord.\n\n- Le 2026-12-07 10:00, Camille a écrit :\n\tBonjour", "D'accord."),
    (
        "Je m'en occupe.\n\nDe : Camille Durand <camille@x.fr>\nEnvoyé : lundi 7 décembre 2026 10:00\n"
        "À : reclamations@example.com\nObjet : Ma commande\n\nBonjour",
        "Je m'en occupe.",
    ),
    ("Je m'en occupe.\n\n*De :* Camille\n*Envoyé :* lundi\n*Objet :* Ma commande", "Je m'en occupe."),
    ("Réponse.\n> une ligne citée\n> une autre", "Réponse."),
    ("Réponse.\n\n-- \nJean Dupont\nService client", "Réponse."),
    ("Réponse.\n--\nJean Dupont", "Réponse."),
    ("Réponse.\n\nEnvoyé de mon iPhone\n\nLe 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :", "Réponse."),
    ("Réponse.\r\n\r\nLe 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :\r\n> Bonjour\r\n", "Réponse."),
    ("Réponse.\rLe 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :\r> Bonjour", "Réponse."),
    ("\ufeffRéponse.\n\n________________________________\nDe : Camille", "Réponse."),
    # The French webmails: the attribution line itself never stays in the new text (a #réponse).
    (
        'Bien reçu.\n\n----- Mail original -----\nDe: "Camille Durand" <camille@free.fr>\n'
        'À: "reclamations" <reclamations@example.com>\nEnvoyé: Lundi 7 Décembre 2026 10:00:00\n'
        "Objet: Re: Ma commande\n\nBonjour",
        "Bien reçu.",
    ),  # Zimbra (Free)
    ("Bien reçu.\n----- Mail d'origine -----\nBonjour", "Bien reçu."),
    (
        'Vu.\n\n"Camille Durand" <camille.durand@client.example>\na écrit sur 07/12/2026 10:00:00 :\n\nBonjour',
        "Vu.",
    ),  # Lotus Notes, wrapped
    (
        "Vu.\n\n\nCamille Durand <camille@client.example>\n07/12/2026 10:00\n\nA\nreclamations@example.com\n\n"
        "Objet\nMa commande\n\nBonjour",
        "Vu.",
    ),  # Lotus Notes, memo
    (
        'Traité.\n\nMessage du 07/12/26 10:00\nDe : "Camille" <camille@orange.fr>\nA : reclamations@example.com\n'
        "Copie à : \nObjet : Ma commande\n\nBonjour",
        "Traité.",
    ),  # Orange, SFR
    ("Traité.\n\nMessage du 07/12/2026 10:00\nBonjour", "Traité."),
    ('Vu.\n\nLe 07/12/2026 10:00, "Camille" <camille@laposte.net> a écrit :\n\nBonjour', "Vu."),  # La Poste
    ("Vu.\n\nLe 7 décembre 2026 à 10:00 Camille Durand\n<camille@laposte.net> a écrit :\nBonjour", "Vu."),
    ("Vu.\n\nCamille <camille@free.fr> a écrit :\n\nBonjour", "Vu."),  # Horde/IMP, no date
    ("Vu.\n\nSelon Camille <camille@free.fr>:\n\nBonjour", "Vu."),
    ("Vu.\n\nCitation de Camille <camille@free.fr> :\nBonjour", "Vu."),
    # Not cuts: ordinary sentences that look a little like attributions.
    ("Le client a écrit plusieurs fois.\nIl attend.", "Le client a écrit plusieurs fois.\nIl attend."),
    ("Voici ma réponse au point 2 :\nnous remboursons.", "Voici ma réponse au point 2 :\nnous remboursons."),
    ("Objet : votre commande\n\nMadame,", "Objet : votre commande\n\nMadame,"),
    ("Envoyé depuis notre entrepôt de Lyon.", "Envoyé depuis notre entrepôt de Lyon."),
    ("Un tiret -- au milieu.\nFin.", "Un tiret -- au milieu.\nFin."),
    ("Message du client reçu hier.\nFin.", "Message du client reçu hier.\nFin."),
    ("Écrivez à Camille <c@x.fr> demain.\nFin.", "Écrivez à Camille <c@x.fr> demain.\nFin."),
    ("Camille <c@x.fr>\nnous a appelés.", "Camille <c@x.fr>\nnous a appelés."),
    # Indentation and inner blank lines of the new text are kept.
    ("  - un\n  - deux\n\n\nfin", "  - un\n  - deux\n\n\nfin"),
    ("", ""),
    ("\n\n  \n", ""),
]


@pytest.mark.parametrize(("text", "top"), RULES)
def test_our_rules(text: str, top: str) -> None:
    assert top_text(text) == top


HTML_RULES = [
    # (HTML-only body, a string of the new text, a string of the quote)
    (
        '<div dir="ltr">Je m\'en occupe.</div><div id="appendonsend"></div><hr>'
        '<div id="divRplyFwdMsg"><b>De :</b> Camille<br><b>Objet :</b> Commande</div><div>Bonjour</div>',
        "Je m'en occupe.",
        "Camille",
    ),
    (
        '<div>Vu.</div><div class="gmail_quote"><div class="gmail_attr">Le lun. 7 déc. 2026 à 10:00, '
        'Camille &lt;c@x.fr&gt; a écrit :</div><blockquote class="gmail_quote">Bonjour</blockquote></div>',
        "Vu.",
        "Camille",
    ),
    ('<p>Vu.</p><div>Camille wrote:</div><blockquote type="cite">Bonjour</blockquote>', "Vu.", "Bonjour"),
    (
        '<p>Vu.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        "<p><b>De :</b> Camille</p></div><p>Bonjour</p>",
        "Vu.",
        "Camille",
    ),
]


@pytest.mark.parametrize(("html", "new", "quoted"), HTML_RULES)
def test_html_quotes_are_dropped_before_rendering(html: str, new: str, quoted: str) -> None:
    top = top_text("", html)
    assert new in top and quoted not in top


def test_text_body_wins_over_html() -> None:
    assert top_text("Texte.", "<p>HTML</p>") == "Texte."
    assert top_text("  \n", "<p>HTML</p>") == "HTML"


# --- tags in quoted text never survive -------------------------------------------------------------

QUOTED_TAGS = [
    # (reply body, HTML body) whose quoted part is a complaint saying "#clore fondée".
    ("#statut en cours\n\nLe lun. 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :\n> #clore fondée\n", ""),
    ("#statut en cours\n\nLe lun. 7 déc. 2026 à 10:00, Camille <\nc@x.fr> a écrit :\n\n#clore fondée\n", ""),
    ("#statut en cours\n\n-------- Message d'origine --------\nDe : Camille\n\n#clore fondée", ""),
    ("#statut en cours\n\nDe : Camille <c@x.fr>\nEnvoyé : lundi\nObjet : REC-1\n\n#clore fondée", ""),
    ("#statut en cours\n\n- Le 2026-12-07 10:00, Camille a écrit :\n#clore fondée", ""),
    ("#statut en cours\n\nOn Mon, Dec 7, 2026 at 10:00 AM Camille <c@x.fr> wrote:\n\n#clore fondée", ""),
    ("#statut en cours\n\n________________________________\nFrom: Camille\nSent: Monday\n#clore fondée", ""),
    ("#statut en cours\n> #clore fondée\n#clore fondée", ""),  # an unprefixed line under a quote: cut
    ("#statut en cours\n----- Mail original -----\n#clore fondée", ""),
    ("#statut en cours\n\nMessage du 07/12/26 10:00\n#clore fondée", ""),
    ("#statut en cours\n\nCamille <c@free.fr> a écrit :\n#clore fondée", ""),
    ("#statut en cours\n\nCamille Durand <c@x.fr>\n07/12/2026 10:00\n\n#clore fondée", ""),
    (
        "",
        '<div>#statut en cours</div><hr id="zwchr"><div data-marker="__HEADERS__"><b>De: </b>Camille</div>'
        '<div data-marker="__QUOTED_TEXT__">#clore fondée</div>',
    ),  # Zimbra's HTML
    (
        "",
        '<div>#statut en cours</div><div class="gmail_quote">Le 7 déc. 2026, Camille a écrit :'
        "<blockquote><div>#clore fondée</div></blockquote></div>",
    ),
    ("", '<p>#statut en cours</p><blockquote type="cite"><p>#clore fondée</p></blockquote>'),
    ("", '<p>#statut en cours</p><div id="divRplyFwdMsg"><p>De : Camille</p></div><p>#clore fondée</p>'),
    # Bottom-posting: the handler wrote under the quote; only their own line counts.
    ("Le 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :\n> #clore fondée\n\n#statut en cours", ""),
    (
        "Le 7 déc. 2026 à 10:00, Camille <c@x.fr> a écrit :\n"
        "> Je veux être remboursée intégralement de ma commande, et vite, je vous dis\n"
        "#clore fondée\n\n#statut en cours",
        "",
    ),  # a wrapped continuation of a long quoted line is still quoted
]


@pytest.mark.parametrize(("text", "html"), QUOTED_TAGS)
def test_tags_in_quoted_text_never_survive(text: str, html: str) -> None:
    top = top_text(text, html)
    commands = parse_commands(top, TODAY)
    assert "#clore" not in top
    assert [c.tag for c in commands.commands] == [Tag.STATUS]


def test_reply_text_keeps_the_handlers_formatting_and_drops_the_quote() -> None:
    body = (
        "#clore fondée\n#réponse Madame,\n\nNous vous remboursons :\n  - 12,50 €\n\nCordialement,\n"
        "-- \nService client\n\nLe lun. 7 déc. 2026 à 10:00, Camille <\nc@x.fr> a écrit :\n> #clore non fondée"
    )
    commands = parse_commands(top_text(body), TODAY)
    assert [(c.tag, c.value) for c in commands.commands] == [
        (Tag.CLOSE, "founded"),
        (Tag.REPLY, "Madame,\n\nNous vous remboursons :\n  - 12,50 €\n\nCordialement,"),
    ]


# --- robustness ------------------------------------------------------------------------------------


def test_library_failure_falls_back_to_our_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, text: str) -> None:
        raise AttributeError("boom")

    monkeypatch.setattr(EmailReplyParser, "read", broken)
    assert top_text("Vu.\n\n-------- Message d'origine --------\nDe : Camille") == "Vu."
    assert top_text("Vu.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Camille <c@x.fr> wrote:\nHi") == "Vu."


def test_a_huge_line_is_fast() -> None:
    started = time.perf_counter()
    top_text("Bonjour\n" + "a" * 1_000_000 + "\n" + "1:00 " * 50_000 + "\n> x")
    top_text("", "<div>" + "b" * 1_000_000 + "</div>")
    assert time.perf_counter() - started < 10


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(max_size=300))
def test_top_text_never_raises(text: str, html: str) -> None:
    top = top_text(text, html)
    assert isinstance(top, str) and top == top.rstrip()
    top_text("", html)


QUOTEISH = st.lists(
    st.sampled_from(
        [
            "",
            "> x",
            ">",
            "#clore fondée",
            "Le 7 déc. 2026 à 10:00, C <c@x.fr> a écrit :",
            "-- ",
            "De : C",
            "Envoyé : lundi",
            "-------- Message d'origine --------",
            "texte",
            "<blockquote>",
            "</div>",
        ]
    ),
    max_size=15,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(QUOTEISH)
def test_top_text_never_raises_on_reply_shaped_text(text: str) -> None:
    assert isinstance(top_text(text, text), str)
    assert isinstance(top_text("", text), str)
