"""Several complaint addresses in one config (`[[registers]]`, issue 13 item 4), in process.

Two registers on one database, "maison" (prefix MAI, French, Alice) and "jardin" (prefix JAR,
English letters, Bob, its own address): each complaint is numbered with its register's prefix,
acknowledged from its address with its letters and routed to its handler; a register's desk never
threads a mail to, follows up, commands or reminds about the other's complaints.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon.cli import main
from daemon.config import Config, parse_config
from daemon.edges.register import Register
from daemon.runners.desk import Desk, desks_of
from daemon.runners.sweep import Sweeper
from tests.harness import complaint, reply
from tests.postgres import register_url
from tests.runners import ALICE, BOB, CUSTOMER, FakeClock, history, ingest, kinds, queued, relay, reminders, show

MAISON = "Maison <maison@example.com>"
JARDIN = "Garden <jardin@example.com>"


def registers_data(tmp_path: Path) -> dict[str, Any]:
    """A config of two registers sharing the database, the storage and the relay."""
    return {
        "smtp": {"host": "127.0.0.1", "port": 25, "tls": "none", "from": MAISON, "timeout": "5s"},
        "database": {"url": register_url(tmp_path)},
        "storage": {"path": str(tmp_path / "attachments")},
        "routing": {"supervisor": "Qualité <qualite@example.com>"},
        "reminders": {"digest_days": []},
        "registers": [
            {
                "name": "maison",
                "mailbox": {"kind": "maildir", "path": str(tmp_path / "maison")},
                "register": {"reference_prefix": "MAI"},
                "handlers": [{"name": "Alice Martin", "email": ALICE}],
                "routing": {"default_handler": ALICE},
            },
            {
                "name": "jardin",
                "mailbox": {"kind": "maildir", "path": str(tmp_path / "jardin")},
                "smtp": {"from": JARDIN},
                "register": {"reference_prefix": "JAR", "language": "en", "answer_deadline": "5bd"},
                "handlers": [{"name": "Bob Durand", "email": BOB}],
                "routing": {"default_handler": BOB},
            },
        ],
    }


def two_desks(tmp_path: Path, clock: FakeClock) -> tuple[Config, Desk, Desk]:
    config = parse_config(registers_data(tmp_path))
    maison, jardin = desks_of(config, Register(config.database.url, create=True), clock)
    return config, maison, jardin


def test_each_register_numbers_acknowledges_and_routes_its_own(tmp_path):
    clock = FakeClock()
    _, maison, jardin = two_desks(tmp_path, clock)
    [a] = ingest(maison, complaint(1)).references
    [b] = ingest(jardin, complaint(2, sender="Sam Green <sam@client.example>")).references
    assert a.startswith("MAI-2026-") and b.startswith("JAR-2026-")
    letters = relay(maison)
    assert kinds(letters) == [
        ("acknowledgement", CUSTOMER),
        ("handler_notification", ALICE),
        ("acknowledgement", "sam@client.example"),
        ("handler_notification", BOB),
    ]
    ack_a, _, ack_b, _ = letters
    assert ack_a.message["From"] == MAISON and ack_b.message["From"] == JARDIN
    assert "Accusé de réception" in ack_a.subject and "acknowledge" in ack_b.text.lower()
    assert a in ack_a.subject and b in ack_b.subject
    assert show(jardin, b).handler_email == BOB and show(maison, a).handler_email == ALICE
    assert show(jardin, b).answer_rule == "5bd" and show(maison, a).answer_rule != "5bd"


def test_a_reply_threads_only_to_its_own_registers_complaint(tmp_path):
    """The customer answers B's acknowledgement, but the mail reaches A's address: A registers it
    as a new complaint of its own instead of adding it to B's; at B's address it is B's follow-up."""
    clock = FakeClock()
    _, maison, jardin = two_desks(tmp_path, clock)
    [b] = ingest(jardin, complaint(2)).references
    ack_b, _ = relay(jardin)
    clock.advance(timedelta(hours=1))
    [a] = ingest(maison, reply(ack_b.message, CUSTOMER, "Toujours rien reçu.")).references
    assert a.startswith("MAI-") and "follow_up" not in [event for event, _ in history(jardin, b)]
    clock.advance(timedelta(hours=1))
    assert ingest(jardin, reply(ack_b.message, CUSTOMER, "Still nothing.")).references == []
    assert "follow_up" in [event for event, _ in history(jardin, b)]


def test_a_handler_of_one_register_cannot_drive_the_others_complaint(tmp_path):
    clock = FakeClock()
    _, maison, jardin = two_desks(tmp_path, clock)
    [b] = ingest(jardin, complaint(2)).references
    _, notification = relay(jardin)
    for desk in (jardin, maison):  # Alice (maison's handler) writes to either address
        clock.advance(timedelta(hours=1))
        ingest(desk, reply(notification.message, ALICE, "#statut en cours"))
        assert show(jardin, b).status == "acknowledged"
    assert "command_mail" not in [event for event, _ in history(jardin, b)]
    clock.advance(timedelta(hours=1))
    ingest(jardin, reply(notification.message, BOB, "#statut en cours"))  # its own handler can
    assert show(jardin, b).status == "in_progress"


def test_each_desk_sweeps_only_its_own_reminders(tmp_path):
    clock = FakeClock()
    _, maison, jardin = two_desks(tmp_path, clock)
    [b] = ingest(jardin, complaint(2)).references
    relay(jardin)
    [first] = [row for row in reminders(jardin, b) if row.state == "pending"][:1]
    clock.set(first.due_at + timedelta(minutes=1))
    assert Sweeper(maison).sweep().queued == 0
    assert Sweeper(jardin).sweep().queued >= 1


def test_list_show_and_export_take_the_register(tmp_path, capsys):
    clock = FakeClock()
    config, maison, jardin = two_desks(tmp_path, clock)
    [a] = ingest(maison, complaint(1)).references
    [b] = ingest(jardin, complaint(2)).references
    path = tmp_path / "config.toml"
    path.write_text(_toml(registers_data(tmp_path)), encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        code = main([args[0], "--config", str(path), *args[1:]])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("list", "--register", "jardin", "--json")
    assert code == 0 and [c["reference"] for c in json.loads(out)] == [b]
    code, out, _ = run("list", "--json")
    assert code == 0 and sorted(c["reference"] for c in json.loads(out)) == sorted([a, b])
    code, out, _ = run("export", "--register", "maison", "--format", "json")
    assert code == 0 and [row["reference"] for row in json.loads(out)] == [a]
    assert run("show", b, "--register", "jardin", "--json")[0] == 0
    code, _, err = run("show", b, "--register", "maison")
    assert code == 1 and f"{b}: not a complaint of register maison" in err
    code, _, err = run("list", "--register", "grenier")
    assert code == 1 and "--register: no register named 'grenier' (known: maison, jardin)" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["registers"][1]["register"].update(reference_prefix="MAI"), "registers[1].register.reference_"),
        (lambda d: d["registers"][1].update(mailbox=d["registers"][0]["mailbox"]), "registers[1].mailbox"),
        (lambda d: d["registers"][1].update(name="maison"), "registers[1].name: 'maison' is used"),
        (lambda d: d["registers"][0].update(database={"url": "sqlite://"}), "registers[0].database: shared"),
        (lambda d: d["registers"][1]["smtp"].update(port=2525), "registers[1].smtp.port: the relay is shared"),
        (lambda d: d["registers"][1].pop("handlers"), "registers[1].handlers: at least one"),
        (lambda d: d["registers"][0]["routing"].update(default_handler=BOB), "registers[0].routing.default_handler"),
    ],
)
def test_a_bad_register_names_its_key(tmp_path, change, message):
    from daemon.errors import ConfigError

    data = registers_data(tmp_path)
    change(data)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data)


def test_every_register_knows_the_others_addresses_as_its_own(tmp_path):
    """Loop safety: one register never acknowledges the other's letters."""
    config = parse_config(registers_data(tmp_path))
    for each in config.each:
        assert {"maison@example.com", "jardin@example.com"} <= each.own_addresses


def _toml(data: dict[str, Any]) -> str:
    """The few shapes this config uses, written as TOML (the standard library reads but does not write it)."""
    lines: list[str] = []

    def table(header: str, values: dict[str, Any]) -> None:
        lines.append(header)
        for key, value in values.items():
            tables = isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value))
            if not tables:
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")

    for name in ("smtp", "database", "storage", "routing", "reminders"):
        table(f"[{name}]", data[name])
    for entry in data["registers"]:
        table("[[registers]]", {"name": entry["name"]})
        for key, value in entry.items():
            if isinstance(value, dict):
                table(f"[registers.{key}]", value)
            elif isinstance(value, list):
                for item in value:
                    table(f"[[registers.{key}]]", item)
    return "\n".join(lines) + "\n"


def test_the_examples_commented_registers_parse(tmp_path, monkeypatch):
    """config.example.toml's [[registers]] block, uncommented, is a valid config of two registers."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    text = (root / "config.example.toml").read_text(encoding="utf-8")
    block = text[text.index("# [[registers]]") :]
    uncommented = "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.splitlines())
    for name in ("imap-maison", "imap-jardin"):
        (tmp_path / name).write_text("secret\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = parse_config(tomllib.loads(text + "\n" + uncommented))
    assert [(c.name, c.register.reference_prefix, c.smtp.sender.email) for c in config.each] == [
        ("maison", "MAI", "maison@example.com"),
        ("jardin", "JAR", "jardin@example.com"),
    ]
    assert config.named("jardin").profile.name == "acpr" and config.named("jardin").mailbox.password == "secret"


def test_a_refused_login_at_either_address_alerts_the_admin_naming_the_register(tmp_path):
    from daemon.runners.health import HealthWatch, Logins, LoginWatch

    clock = FakeClock()
    _, maison, _ = two_desks(tmp_path, clock)
    ingest(maison, complaint(1))
    logins = {"maison": LoginWatch(clock), "jardin": LoginWatch(clock)}
    watch = HealthWatch(maison, Logins(logins))
    logins["maison"].accepted()
    assert watch.check() == [], "jardin not tried yet"
    logins["jardin"].accepted()
    assert watch.check() == []
    clock.advance(timedelta(minutes=5))
    logins["jardin"].refused("login refused for jardin@example.com")
    [change] = watch.check()
    assert (change.condition, change.raised) == ("mailbox_login", True)
    [alert] = [letter for letter in queued(maison) if letter.kind == "health_alert_mailbox_login"]
    assert "jardin: login refused for jardin@example.com" in alert.text
    logins["jardin"].accepted()
    assert [(c.condition, c.raised) for c in watch.check()] == [("mailbox_login", False)]


def test_the_web_view_filters_by_register(tmp_path):
    from starlette.testclient import TestClient

    from daemon.web.app import Site, create_app
    from tests.web import web_section

    clock = FakeClock()
    _, maison, jardin = two_desks(tmp_path, clock)
    [a] = ingest(maison, complaint(1)).references
    [b] = ingest(jardin, complaint(2)).references
    config = parse_config(registers_data(tmp_path) | {"web": web_section()})
    browser = TestClient(create_app(Site(config, maison.register, clock=clock), "k" * 64), base_url="http://127.0.0.1")
    assert browser.post("/login", data={"username": "qualite", "password": "qualite-pw"}).status_code == 200
    page = browser.get("/").text
    assert a in page and b in page and 'name="register"' in page
    page = browser.get("/?register=jardin").text
    assert b in page and a not in page
    assert a in browser.get("/export.json?register=maison").text
    assert b not in browser.get("/export.json?register=maison").text
    refused = browser.get("/?register=grenier")
    assert refused.status_code == 400 and "register" in refused.text


def test_a_quarantined_mail_is_retried_into_the_register_named(tmp_path, capsys):
    import hashlib

    from daemon.core.intake import Intake
    from daemon.core.triage import Outcome
    from daemon.edges.register.writes import record

    clock = FakeClock()
    _, maison, _ = two_desks(tmp_path, clock)
    raw, now = complaint(5), clock()
    with maison.register.transaction() as session:
        record(session, Intake(raw, hashlib.sha256(raw).hexdigest(), now, Outcome.QUARANTINE, "a bug since fixed"), now)
    path = tmp_path / "config.toml"
    path.write_text(_toml(registers_data(tmp_path)), encoding="utf-8")
    assert main(["quarantine", "retry", "1", "--register", "jardin", "--config", str(path)]) == 0
    assert "JAR-2026-" in capsys.readouterr().out
