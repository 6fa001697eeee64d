"""One HTML layout: every HTML letter of both languages extends `_layout.html.j2`, the acknowledgement
uses the shared blocks, and an override directory can replace the layout, or one letter, alone."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import nodes

from daemon.core.letters import (
    RENDERERS,
    ActionAssignedFacts,
    CommandUnaddressedFacts,
    FloodAlertFacts,
    GroupedLine,
    GroupedMailFacts,
    HealthFacts,
    IntegrityAlertFacts,
    InterimFacts,
    Letter,
    LetterRefusedFacts,
    QuarantinedLine,
    QuarantineNoticeFacts,
    Templates,
    builtin_templates_dir,
)
from tests import test_letters, test_notices, test_render

LANGUAGES = ("fr", "en")

# One sample of each letter, from that letter's own tests: the name is its templates' file name.
SAMPLES: dict[str, Any] = {
    "acknowledgement": test_render.FACTS,
    "handler_notification": test_letters.NOTIFICATION,
    "reminder": test_letters.REMINDER,
    "escalation": test_letters.ESCALATION,
    "digest": test_letters.DIGEST,
    "answer": test_notices.ANSWER,
    "deadline_changed": test_notices.DEADLINE,
    "status_changed": test_notices.STATUS,
    "interim": InterimFacts(
        test_notices.COMPLAINT, "Nous attendons le retour du transporteur.", "Service réclamations"
    ),
    "action_reminder": test_letters.ACTION_REMINDER_TO_HANDLER,
    "action_overdue": test_letters.ACTION_OVERDUE,
    "action_assigned": ActionAssignedFacts(
        test_notices.COMPLAINT, 2, "preventive", "Revoir l'emballage", None, "Bob Durand", "bob@example.com"
    ),
    "closed": test_notices.CLOSED,
    "follow_up_received": test_notices.FOLLOW_UP,
    "command_confirmation": test_notices.CONFIRMATION,
    "command_error": test_notices.ERROR,
    "command_help": test_notices.HELP,
    "command_refused": test_notices.REFUSED,
    "command_unaddressed": CommandUnaddressedFacts(
        "alice@example.com",
        "Alice Martin",
        test_notices.COMPLAINT.received_at,
        "Suivi",
        ("#statut en cours",),
        "REC-2026-000042",
    ),
    "follow_up_forward": test_notices.FORWARD,
    "handover": test_notices.HANDOVER,
    "letter_refused": LetterRefusedFacts(
        test_notices.COMPLAINT,
        test_notices.TOKEN,
        "Alice Martin",
        "acknowledgement",
        "jörg@client.example",
        "cannot be sent: an internationalised address, and the relay does not offer SMTPUTF8",
        test_notices.TUESDAY,
    ),
    "quarantine_notice": QuarantineNoticeFacts(
        (QuarantinedLine(7, test_notices.TUESDAY, "jorg@example.org", "Réclamation", "the message is empty"),),
        test_notices.TUESDAY,
    ),
    "health": HealthFacts(
        "no_mail",
        True,
        datetime(2026, 11, 23, 9, tzinfo=UTC),
        timedelta(hours=24),
        "",
        datetime(2026, 11, 24, 9, tzinfo=UTC),
    ),
    "integrity_alert": IntegrityAlertFacts(
        2, ("attachment 3 (<b>photo</b>.jpg) (REC-2026-000004): its file is missing",), 1200, test_notices.TUESDAY
    ),
    "quality_report": test_letters.QUALITY_REPORT,
    "flood_alert": FloodAlertFacts(
        "<b>flood</b>@client.example", 5, "REC-2026-000006", timedelta(hours=1), test_notices.TUESDAY
    ),
    "grouped_mail": GroupedMailFacts(
        "Bob Durand",
        "camille@client.example",
        (GroupedLine("REC-2026-000006", False, test_notices.TUESDAY, "<script>Réclamation</script>"),),
        3,
        test_notices.TUESDAY,
    ),
}
CUSTOMER_LETTERS = {
    "acknowledgement",
    "answer",
    "deadline_changed",
    "status_changed",
    "interim",
    "closed",
    "follow_up_received",
}
FOOTER = {"fr": "Registre des réclamations – message automatique", "en": "Complaints register – automatic message"}


def render(templates: Templates, name: str) -> Letter:
    return RENDERERS[type(SAMPLES[name])](templates, SAMPLES[name])


# Pages that are not letters: printed, not mailed, each a whole page of its own (core/sheet.py).
PAGES = {"sheet"}


def html_letters(language: str) -> list[str]:
    directory = builtin_templates_dir() / language
    names = (p.name.removesuffix(".html.j2") for p in directory.glob("*.html.j2") if not p.name.startswith("_"))
    return sorted(name for name in names if name not in PAGES)


def override_of(tmp_path: Path, language: str, name: str, *replacements: tuple[str, str]) -> Path:
    """Copy a built-in file into the override directory `tmp_path`, with each (old, new) replaced once."""
    text = (builtin_templates_dir() / language / name).read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not once in {language}/{name}"
        text = text.replace(old, new)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_samples_cover_every_html_letter(language: str) -> None:
    assert html_letters(language) == sorted(SAMPLES)
    assert len(SAMPLES) == len(RENDERERS) == 28
    assert (builtin_templates_dir() / language / "_layout.html.j2").is_file()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_html_letter_extends_the_layout_and_has_no_page_of_its_own(language: str) -> None:
    environment = Templates(language).environment
    for name in html_letters(language):
        source, _, _ = environment.loader.get_source(environment, f"{name}.html.j2")
        extends = list(environment.parse(source).find_all(nodes.Extends))
        assert len(extends) == 1, name
        assert isinstance(extends[0].template, nodes.Const) and extends[0].template.value == "_layout.html.j2", name
        for tag in ("<!DOCTYPE", "<html", "<head", "<body", "<title"):
            assert tag not in source, f"{language}/{name}.html.j2 still has its own {tag}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_html_letter_is_one_page_of_the_layout(language: str) -> None:
    templates = Templates(language)
    for name in SAMPLES:
        html = render(templates, name).html
        assert html.startswith(f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">'), name
        assert html.endswith("</p>\n</div>\n</body>\n</html>\n"), name
        assert html.count("<body") == html.count("<title>") == 1, name
        width = 640 if name in CUSTOMER_LETTERS else 960 if name == "digest" else 720
        assert f'<div style="max-width:{width}px;">' in html, name
        # The last line: the organisation that signs for the customer, the automatic line for staff.
        last = re.findall(r"<p[^>]*>(.*?)</p>\n</div>", html)
        assert last == [test_notices.ORGANISATION if name in CUSTOMER_LETTERS else FOOTER[language]], name


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_overridden_layout_changes_every_html_letter_and_nothing_else(language: str, tmp_path: Path) -> None:
    marker = '<meta name="complaintsd-layout" content="overridden">'
    override_of(tmp_path, language, "_layout.html.j2", ("<head>\n", f"<head>\n{marker}\n"))
    builtin, overridden = Templates(language), Templates(language, override_dir=tmp_path)
    for name in SAMPLES:
        before, after = render(builtin, name), render(overridden, name)
        assert marker not in before.html, name
        assert marker in after.html, name
        assert after.html.replace(marker + "\n", "") == before.html, name
        assert (after.subject, after.text) == (before.subject, before.text), name


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_layout_override_can_change_the_staff_footer_once(language: str, tmp_path: Path) -> None:
    override_of(tmp_path, language, "_layout.html.j2", (FOOTER[language], "Service qualité"))
    templates = Templates(language, override_dir=tmp_path)
    for name in SAMPLES:
        html = render(templates, name).html
        assert FOOTER[language] not in html, name
        assert ("Service qualité" in html) is (name not in CUSTOMER_LETTERS), name


def test_an_overridden_letter_still_extends_the_builtin_layout_and_blocks(tmp_path: Path) -> None:
    (tmp_path / "closed.html.j2").write_text(
        '{% extends "_layout.html.j2" %}\n'
        '{% import "_blocks.html.j2" as blocks %}\n'
        "{% block title %}Clôture {{ complaint.reference }}{% endblock %}\n"
        "{% block body %}\n<p>{{ blocks.greeting(complaint.customer_name) }}</p>\n{% endblock %}\n",
        encoding="utf-8",
    )
    html = render(Templates("fr", override_dir=tmp_path), "closed").html
    assert html.startswith('<!DOCTYPE html>\n<html lang="fr">')
    assert "<title>Clôture REC-2026-000042</title>" in html
    assert "<p>Bonjour Marie Dupont,</p>" in html
    assert FOOTER["fr"] in html  # the layout's default signature: this override sets none
    # The other letters are untouched.
    assert render(Templates("fr", override_dir=tmp_path), "answer").html == render(Templates("fr"), "answer").html


def test_the_layout_escapes_like_every_html_template(tmp_path: Path) -> None:
    # A title block fed a customer's value: escaped, because the letter and the layout are .html.j2.
    (tmp_path / "closed.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block title %}{{ complaint.subject }}{% endblock %}',
        encoding="utf-8",
    )
    complaint = dataclasses.replace(test_notices.COMPLAINT, subject="</title><script>x</script>")
    hostile = dataclasses.replace(test_notices.CLOSED, complaint=complaint)
    html = RENDERERS[type(hostile)](Templates("fr", override_dir=tmp_path), hostile).html
    assert "<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>" in html
    assert "<script>" not in html


# Edits to the shared blocks (both formats), and what the acknowledgement must then say. The sample
# has no customer name ("Madame, Monsieur,") and a mediator with a phone number.
BLOCK_EDITS = {
    "fr": (
        ("Madame, Monsieur,{% endif %}", "Bonjour,{% endif %}"),
        ("salutations distinguées.{% endif %}", "salutations.{% endif %}"),
        ("Téléphone :", "Tél. :"),
    ),
    "en": (
        ("Dear Sir or Madam,{% endif %}", "Hello,{% endif %}"),
        ("Yours faithfully,{% endif %}", "Regards,{% endif %}"),
        ("Phone:", "Tel.:"),
    ),
}
# (greeting, closing, mediator's phone, what is gone)
EDITED_ACKNOWLEDGEMENT = {
    "fr": ("Bonjour,", "l'expression de nos salutations.", "Tél. : 01 23 45 67 89", "salutations distinguées"),
    "en": ("Hello,", "Regards,", "Tel.: 01 23 45 67 89", "Yours faithfully"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_acknowledgement_uses_the_shared_blocks(language: str, tmp_path: Path) -> None:
    for blocks in ("_blocks.html.j2", "_blocks.txt.j2"):
        override_of(tmp_path, language, blocks, *BLOCK_EDITS[language])
    letter = render(Templates(language, override_dir=tmp_path), "acknowledgement")
    greeting, closing, phone, gone = EDITED_ACKNOWLEDGEMENT[language]
    assert letter.text.startswith(f"{greeting}\n\n")
    assert f"<p>{greeting}</p>" in letter.html
    for body in (letter.text, letter.html):
        assert closing in body and phone in body
        assert gone not in body
