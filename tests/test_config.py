"""The config contract: every key documented in config.example.toml parses; mistakes name their key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import timedelta

import pytest

from daemon.config import load_config, parse_config, policy_of
from daemon.edges.register import Register
from daemon.errors import ConfigError
from tests.harness import ROOT, _env

MINIMAL = {
    "mailbox": {"host": "imap.example.com", "username": "r@example.com"},
    "smtp": {"from": "R <r@example.com>"},
    "handlers": [{"name": "Alice", "email": "alice@example.com"}],
    "routing": {"default_handler": "alice@example.com", "supervisor": "q@example.com"},
}
HANDLERS_TOML = (
    '[[handlers]]\nname = "A"\nemail = "a@b.c"\n[routing]\ndefault_handler = "a@b.c"\nsupervisor = "q@b.c"\n'
)


def with_(section: str, **values) -> dict:
    data = {name: dict(table) if isinstance(table, dict) else list(table) for name, table in MINIMAL.items()}
    data.setdefault(section, {}).update(values)
    return data


def test_example_config_is_valid_and_documents_every_key():
    config = load_config(ROOT / "config.example.toml")
    assert config.mailbox.kind == "imap" and config.mailbox.poll_interval == timedelta(seconds=60)
    assert config.register.reference_prefix == "REC" and config.register.language == "fr"
    assert str(config.register.timezone) == "Europe/Paris"
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    from daemon.config_schema import SECTIONS

    for section, schema in SECTIONS.items():
        if section == "categories":
            continue  # shown commented out: there is no category until a handler sets one
        tables = example[section] if isinstance(example[section], list) else [example[section]]
        assert set(schema) <= set(tables[0]), f"config.example.toml misses keys of [{section}]"


@pytest.mark.parametrize(
    "data, path, words",
    [
        (with_("mailbox", prot=993), "mailbox.prot", "unknown key"),
        (with_("mailbox", port="993"), "mailbox.port", "integer"),
        (with_("mailbox", port=70000), "mailbox.port", "out of range"),
        (with_("mailbox", kind="pop3"), "mailbox.kind", "imap, maildir"),
        (with_("mailbox", poll_interval="soon"), "mailbox.poll_interval", "soon"),
        (with_("mailbox", kind="maildir"), "mailbox.path", "required"),
        (with_("smtp", tls="yes"), "smtp.tls", "ssl, starttls, none"),
        (with_("smtp", **{"from": "not an address"}), "smtp.from", "not an email address"),
        ({"mailbox": MINIMAL["mailbox"]}, "smtp.from", "missing"),
        (with_("register", timezone="Mars/Olympus"), "register.timezone", "unknown time zone"),
        (with_("register", answer_deadline="ten days"), "register.answer_deadline", "ten days"),
        (with_("register", reference_prefix="rec-"), "register.reference_prefix", "upper-case"),
        (with_("register", language="de"), "register.language", "fr, en"),
        (with_("mailbox", password="a", password_env="B"), "mailbox.password_env", "only one"),
        (with_("mailbox", password_env="COMPLAINTSD_SURELY_UNSET"), "mailbox.password_env", "not set"),
        (with_("mailbox", processed_folder="INBOX"), "mailbox.processed_folder", "must differ"),
        ({**MINIMAL, "mailboxes": {}}, "mailboxes", "unknown section"),
        ({k: v for k, v in MINIMAL.items() if k != "handlers"}, "handlers", "at least one"),
        (
            with_("routing", default_handler="carol@example.com"),
            "routing.default_handler",
            "not one of the [[handlers]]",
        ),
        ({**MINIMAL, "handlers": [{"name": "A"}]}, "handlers[0].email", "missing"),
        (
            {**MINIMAL, "handlers": [{"name": "A", "email": "a@b.c", "keyword": ["x"]}]},
            "handlers[0].keyword",
            "unknown key",
        ),
        (with_("outbox", verp_delimiter="*"), "outbox.verp_delimiter", "+, -"),
        (with_("outbox", verp="yes"), "outbox.verp", "true or false"),
        (with_("limits", grouped_every="often"), "limits.grouped_every", "often"),
        (with_("reminders", before=["3d", "soon"]), "reminders.before[1]", "soon"),
        (with_("reminders", digest_at="8h"), "reminders.digest_at", "time of day"),
        (with_("reminders", digest_days=["mon", "funday"]), "reminders.digest_days", "funday"),
        (
            {**MINIMAL, "categories": {"facturation": {"answer_deadline": "6 bananas"}}},
            "categories.facturation.answer_deadline",
            "bananas",
        ),
        (
            {**MINIMAL, "categories": {"facturation": {"keywords": ["facture", "  "]}}},
            "categories.facturation.keywords",
            "non-empty strings",
        ),
        (with_("causes", categories=["livraison", "retard: transporteur"]), "causes.categories[1]", "colon"),
        (with_("causes", categories=["une erreur de saisie humaine"]), "causes.categories[0]", "1 to 3 words"),
        (
            {**MINIMAL, "categories": {"facturation": {"keywords": "facture"}}},
            "categories.facturation.keywords",
            "list",
        ),
    ],
)
def test_bad_values_name_their_key(data, path, words):
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.path == path
    assert words in error.value.problem


def test_secrets_from_environment_and_credentials_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAP_PW", "from-env")
    (tmp_path / "smtp-pw").write_text("from-file\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = parse_config(
        with_("mailbox", password_env="IMAP_PW") | {"smtp": {"from": "r@example.com", "password_file": "smtp-pw"}}
    )
    assert config.routing.default.email == "alice@example.com"
    assert config.mailbox.password == "from-env"
    assert config.smtp.password == "from-file"


def test_cause_categories_reach_the_policy():
    config = parse_config(with_("causes", categories=["livraison", " erreur   humaine "]))
    assert policy_of(config).cause_categories == ("livraison", "erreur humaine")
    assert policy_of(parse_config(MINIMAL)).cause_categories == ()


def test_category_deadlines_override_the_default():
    config = parse_config({**MINIMAL, "categories": {"Facturation": {"answer_deadline": "6bd"}}})
    assert str(config.deadline_rules("facturation")[1]) == "6bd"
    assert str(config.deadline_rules(None)[1]) == "10d"
    assert str(config.deadline_rules("livraison")[0]) == "48h"


def test_cli_reports_a_bad_config_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[mailbox]\nhost = "x"\nusername = "u"\nprot = 1\n[smtp]\nfrom = "a@b.c"\n' + HANDLERS_TOML)
    for command in ("check", "run", "list"):
        result = subprocess.run(
            [sys.executable, "-m", "daemon.cli", command, "--config", str(bad)],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert "mailbox.prot: unknown key" in result.stderr
        assert "Traceback" not in result.stderr


def test_cli_unknown_reference_and_missing_file_are_one_line(tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "list", "--config", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert missing.returncode == 1 and "cannot read" in missing.stderr and missing.stderr.count("\n") == 1
    good = tmp_path / "good.toml"
    good.write_text(
        f'[mailbox]\nkind = "maildir"\npath = "{tmp_path}/md"\n[smtp]\nfrom = "a@b.c"\n[database]\nurl = "sqlite:///{tmp_path}/r.db"\n'
        + HANDLERS_TOML
    )
    Register(f"sqlite:///{tmp_path}/r.db", create=True).dispose()  # as `complaintsd migrate` leaves it
    unknown = subprocess.run(
        [sys.executable, "-m", "daemon.cli", "show", "REC-2026-999999", "--config", str(good)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert unknown.returncode == 1 and "no complaint REC-2026-999999" in unknown.stderr
    assert unknown.stderr.count("\n") == 1


def test_check_renders_every_letter_and_names_a_broken_override(tmp_path):
    from daemon.checks import _templates
    from daemon.errors import ComplaintsError

    assert _templates(parse_config(MINIMAL)).startswith("templates: 28 letters render (fr")
    (tmp_path / "answer.txt.j2").write_text("{{ no_such_field }}")
    broken = parse_config(with_("register", templates=str(tmp_path)))
    with pytest.raises(ComplaintsError, match="templates: answer does not render"):
        _templates(broken)
