"""Rendering letters: the acknowledgement in French and English, escaping, overrides, strictness."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest

from daemon.core.letters import (
    AcknowledgementFacts,
    AttachmentLine,
    Letter,
    Mediator,
    Templates,
    builtin_templates_dir,
    render_acknowledgement,
)

PARIS = ZoneInfo("Europe/Paris")

MEDIATOR = Mediator(
    name="Médiateur Exemple de la consommation",
    website="https://mediateur.example",
    address="1 rue de l'Exemple\n75000 Paris",
    phone="01 23 45 67 89",
)

FACTS = AcknowledgementFacts(
    reference="REC-2026-000042",
    customer_name="",
    customer_email="marie.dupont@example.com",
    subject="Facture erronée",
    # Monday 7 December 2026 13:05 UTC is 14:05 in Paris.
    received_at=datetime(2026, 12, 7, 13, 5, tzinfo=UTC),
    answer_due_at=datetime(2026, 12, 17, 22, 59, 59, tzinfo=UTC),  # Thursday 17 December, 23:59:59 Paris.
    attachments=(AttachmentLine("facture.pdf", 50_000), AttachmentLine("photo.jpg", 1_234_567)),
    mediator=MEDIATOR,
    organisation="Service réclamations",
)


@pytest.fixture(scope="module")
def fr() -> Templates:
    return Templates("fr")


@pytest.fixture(scope="module")
def en() -> Templates:
    return Templates("en")


def test_builtin_templates_dir_is_the_repository_templates() -> None:
    root = builtin_templates_dir()
    assert (root / "fr" / "acknowledgement.txt.j2").is_file()
    assert (root / "en" / "acknowledgement.html.j2").is_file()


# --- the French acknowledgement ------------------------------------------------------------------


def test_french_acknowledgement(fr: Templates) -> None:
    letter = render_acknowledgement(fr, FACTS)
    assert letter.subject == "[REC-2026-000042] Accusé de réception de votre réclamation – Facture erronée"
    for body in (letter.text, letter.html):
        assert "Madame, Monsieur," in body
        assert "REC-2026-000042" in body
        assert "reçue le lundi 7 décembre 2026 à 14:05" in body
        assert "au plus tard le jeudi 17 décembre 2026" in body
        assert "facture.pdf (50 ko)" in body
        assert "photo.jpg (1,2 Mo)" in body
        assert "les 2 pièces jointes suivantes" in body
        assert "en conservant la référence [REC-2026-000042] dans l'objet" in body.replace("<strong>", "").replace(
            "</strong>", ""
        )
        assert "Service réclamations" in body
    assert letter.text.startswith(
        "Madame, Monsieur,\n\nNous accusons réception de votre réclamation « Facture erronée »"
    )
    assert "Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées." in letter.text
    assert letter.text.endswith("\n\nService réclamations\n")
    assert "\n\n\n" not in letter.text


def test_french_mediator_block_shows_every_field_set(fr: Templates) -> None:
    text = render_acknowledgement(fr, FACTS).text
    assert "saisir le médiateur dont nous relevons" in text
    assert (
        "  Médiateur Exemple de la consommation\n"
        "  1 rue de l'Exemple\n"
        "  75000 Paris\n"
        "  Site internet : https://mediateur.example\n"
        "  Téléphone : 01 23 45 67 89\n"
    ) in text
    html = render_acknowledgement(fr, FACTS).html
    assert '<a href="https://mediateur.example">https://mediateur.example</a>' in html
    assert "1 rue de l&#39;Exemple<br>\n75000 Paris" in html


def test_mediator_only_the_fields_set(fr: Templates) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, mediator=Mediator(name="Médiateur Exemple")))
    assert "Médiateur Exemple" in letter.text
    assert "Site internet" not in letter.text
    assert "Téléphone" not in letter.text
    assert "Site internet" not in letter.html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_mediator_no_mediator_paragraph(language: str) -> None:
    letter = render_acknowledgement(Templates(language), dataclasses.replace(FACTS, mediator=None))
    for body in (letter.text, letter.html):
        assert "Médiateur Exemple" not in body
        assert "médiateur" not in body.lower().replace("médiateur exemple", "")
        assert "mediator" not in body.lower()


def test_no_attachments_no_attachment_paragraph(fr: Templates) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, attachments=()))
    for body in (letter.text, letter.html):
        assert "pièce" not in body
    assert "<ul>" not in letter.html


def test_one_attachment_is_singular(fr: Templates) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, attachments=(AttachmentLine("a.txt", 1),)))
    assert "Nous avons bien reçu la pièce jointe suivante :\n  - a.txt (1 octet)\n" in letter.text


def test_known_name_is_used(fr: Templates) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, customer_name="Marie Dupont"))
    assert letter.text.startswith("Bonjour Marie Dupont,\n")
    assert "<p>Bonjour Marie Dupont,</p>" in letter.html
    assert "Nous vous prions d'agréer l'expression de nos salutations distinguées." in letter.text


@pytest.mark.parametrize("name", ["marie.dupont@example.com", "MARIE.DUPONT@EXAMPLE.COM", "  ", "x@y"])
def test_a_name_that_is_an_address_is_not_used(fr: Templates, name: str) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, customer_name=name))
    assert letter.text.startswith("Madame, Monsieur,\n")


def test_no_subject(fr: Templates) -> None:
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, subject="   "))
    assert letter.subject == "[REC-2026-000042] Accusé de réception de votre réclamation"
    assert "Nous accusons réception de votre réclamation, reçue le" in letter.text


def test_long_subject_is_truncated_in_our_subject_only(fr: Templates) -> None:
    long = "Livraison incomplète " * 10
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, subject=long))
    assert letter.subject.endswith("…")
    assert len(letter.subject) < 130
    assert long.strip() in letter.text


def test_subject_is_one_line_whatever_the_customer_wrote(fr: Templates) -> None:
    hostile = "Bonjour\r\nBcc: victim@example.com\n\nX"
    letter = render_acknowledgement(fr, dataclasses.replace(FACTS, subject=hostile))
    assert "\n" not in letter.subject and "\r" not in letter.subject
    assert "Bonjour Bcc: victim@example.com X" in letter.subject


# --- the English acknowledgement -----------------------------------------------------------------


def test_english_acknowledgement(en: Templates) -> None:
    letter = render_acknowledgement(en, FACTS)
    assert letter.subject == "[REC-2026-000042] Acknowledgement of your complaint – Facture erronée"
    for body in (letter.text, letter.html):
        assert "Dear Sir or Madam," in body
        assert "REC-2026-000042" in body
        assert "received on Monday, December 7, 2026 at 2:05 PM" in body
        assert "Thursday, December 17, 2026" in body
        assert "facture.pdf (50 kB)" in body
        assert "photo.jpg (1.2 MB)" in body
        assert "Website: " in body
        assert "Service réclamations" in body
    assert "We undertake to send you a reasoned answer by Thursday, December 17, 2026 at the latest." in letter.text
    assert "Yours faithfully," in letter.text


# --- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_html_escapes_what_the_customer_wrote(language: str) -> None:
    facts = dataclasses.replace(
        FACTS,
        customer_name="<b>Mallory</b>",
        subject="<script>alert('x')</script>",
        attachments=(AttachmentLine('<img src=x onerror="alert(1)">.pdf', 10),),
    )
    letter = render_acknowledgement(Templates(language), facts)
    assert "<script>" not in letter.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in letter.html
    assert "<img" not in letter.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.pdf" in letter.html
    assert "<b>Mallory" not in letter.html
    # Plain text and subject are not HTML: they carry the words as written.
    assert "<script>alert('x')</script>" in letter.text
    assert "<script>alert('x')</script>" in letter.subject


def test_mediator_website_that_is_not_http_is_not_a_link(fr: Templates) -> None:
    facts = dataclasses.replace(FACTS, mediator=Mediator(name="M", website="javascript:alert(1)"))
    html = render_acknowledgement(fr, facts).html
    assert "href" not in html
    assert "javascript:alert(1)" in html


# --- filters -------------------------------------------------------------------------------------


def test_filters_convert_to_the_templates_timezone() -> None:
    # 23:30 UTC on Sunday 6 December is already Monday 7 at 00:30 in Paris.
    instant = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert Templates("fr").format_datetime(instant) == "lundi 7 décembre 2026 à 00:30"
    assert Templates("fr", timezone=ZoneInfo("UTC")).format_date(instant) == "dimanche 6 décembre 2026"
    assert Templates("en").format_date(date(2026, 12, 7)) == "Monday, December 7, 2026"


def test_filters_refuse_naive_datetimes(fr: Templates) -> None:
    with pytest.raises(ValueError, match="aware"):
        fr.format_date(datetime(2026, 12, 7, 14, 5))


@pytest.mark.parametrize(
    ("size", "french", "english"),
    [
        (0, "0 octet", "0 bytes"),
        (1, "1 octet", "1 byte"),
        (999, "999 octets", "999 bytes"),
        (1000, "1 ko", "1 kB"),
        (50_000, "50 ko", "50 kB"),
        (51_234, "51 ko", "51 kB"),
        (999_999, "1 Mo", "1 MB"),
        (1_234_567, "1,2 Mo", "1.2 MB"),
        (3_000_000_000, "3 Go", "3 GB"),
    ],
)
def test_size(fr: Templates, en: Templates, size: int, french: str, english: str) -> None:
    assert fr.format_size(size) == french
    assert en.format_size(size) == english


# --- templates: languages, overrides, strictness -------------------------------------------------


def test_unknown_language_names_the_available_ones() -> None:
    with pytest.raises(ValueError, match=r"'de'.*available: en, fr"):
        Templates("de")


def test_override_directory_wins_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.subject.j2").write_text("Votre dossier {{ reference }}", encoding="utf-8")
    letter = render_acknowledgement(Templates("fr", override_dir=tmp_path), FACTS)
    assert letter.subject == "Votre dossier REC-2026-000042"
    # The files not overridden still come from the built-in directory.
    assert "Nous nous engageons à vous apporter une réponse argumentée" in letter.text
    assert "<!DOCTYPE html>" in letter.html


def test_override_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        Templates("fr", override_dir=tmp_path / "missing")


def test_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.txt.j2").write_text("Référence : {{ referense }}\n", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError, match="referense"):
        render_acknowledgement(Templates("fr", override_dir=tmp_path), FACTS)


def test_undefined_attribute_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.txt.j2").write_text("{{ mediator.fax }}\n", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError, match="fax"):
        render_acknowledgement(Templates("fr", override_dir=tmp_path), FACTS)


def test_missing_letter(fr: Templates) -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        fr.render("no_such_letter", reference="REC-2026-000042")


def test_override_html_is_autoescaped_text_is_not(tmp_path: Path) -> None:
    (tmp_path / "note.subject.j2").write_text("{{ value }}", encoding="utf-8")
    (tmp_path / "note.txt.j2").write_text("{{ value }}", encoding="utf-8")
    (tmp_path / "note.html.j2").write_text("<p>{{ value }}</p>", encoding="utf-8")
    letter = Templates("en", override_dir=tmp_path).render("note", value="a < b & c")
    assert letter == Letter(subject="a < b & c", text="a < b & c\n", html="<p>a &lt; b &amp; c</p>")


def test_empty_subject_is_refused(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.subject.j2").write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="subject"):
        render_acknowledgement(Templates("fr", override_dir=tmp_path), FACTS)


# --- facts ---------------------------------------------------------------------------------------


def test_facts_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="received_at"):
        dataclasses.replace(FACTS, received_at=datetime(2026, 12, 7, 14, 5))


def test_mediator_needs_a_name() -> None:
    with pytest.raises(ValueError, match="name"):
        Mediator(name=" ")


def test_the_two_instants_of_a_repeated_hour_are_shown_apart() -> None:
    """Dates are remembered by value, and two instants of one zone's repeated autumn hour compare
    equal (Python compares them by wall time): each must still show its own hour in the register's zone."""
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)  # 05:30 UTC, EDT
    second = first.replace(fold=1)  # 06:30 UTC, EST
    assert first == second
    paris = Templates("fr")
    assert (paris.format_time(first), paris.format_time(second)) == ("06:30", "07:30")
    assert paris.format_datetime(second).endswith("à 07:30")
