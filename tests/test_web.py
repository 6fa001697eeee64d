"""The web view in process (Starlette's TestClient over httpx) on a real SQLite register seeded by the runners.

What a user would notice: the login, who sees which complaints (a handler only their own, even by URL),
filters, search, order and paging in the URL, the sheet with its history and attachments, what
customers wrote shown as text, and the one-line config errors of `[web]`.
"""

from __future__ import annotations

import html
import re
import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from daemon.cli import main
from daemon.core.period import parse_period
from daemon.errors import ConfigError
from daemon.report import make_report, render
from daemon.web.access import LoginLimiter
from daemon.web.app import create_app
from daemon.web.passwords import verify_password
from daemon.web.server import secret_key
from tests.runners import ALICE, BOB, config_of
from tests.web import PDF, SCRIPT_SUBJECT, Seeded, seed

KEY = "k" * 64


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(tmp_path)


def client(seeded: Seeded, user: str | None = None) -> TestClient:
    browser = TestClient(create_app(seeded.site, KEY), base_url="http://127.0.0.1", follow_redirects=False)
    if user is not None:
        response = browser.post("/login", data={"username": user, "password": f"{user}-pw"})
        assert response.status_code == 303, response.text
    return browser


def references(page: str) -> list[str]:
    return re.findall(r'class="reference" href="/complaints/([^"]+)"', page)


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(seeded: Seeded) -> None:
    browser = client(seeded)
    ref = seeded.references["invoice"]
    for path in ("/", "/?status=received", f"/complaints/{ref}", f"/complaints/{ref}/attachments/{'0' * 64}"):
        response = browser.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/login"), path
    form = browser.get("/login")
    assert form.status_code == 200
    assert 'name="username"' in form.text and 'name="password"' in form.text


def test_a_wrong_password_is_refused_and_a_right_one_opens_the_register(seeded: Seeded) -> None:
    browser = client(seeded)
    wrong = browser.post("/login", data={"username": "qualite", "password": "nope"})
    assert wrong.status_code == 401 and "Identifiant ou mot de passe incorrect" in wrong.text
    assert browser.get("/").status_code == 303
    unknown = browser.post("/login", data={"username": "nobody", "password": "nobody-pw"})
    assert unknown.status_code == 401
    right = browser.post("/login", data={"username": "qualite", "password": "qualite-pw"})
    assert (right.status_code, right.headers["location"]) == (303, "/")
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert set(references(browser.get("/").text)) == set(seeded.references.values())


def test_logging_out_ends_the_session(seeded: Seeded) -> None:
    browser = client(seeded, "qualite")
    assert browser.post("/logout").headers["location"] == "/login"
    assert browser.get("/").status_code == 303


def test_login_attempts_are_rate_limited(seeded: Seeded) -> None:
    now = [0.0]
    seeded.site.limiter = LoginLimiter(attempts=3, window=60, clock=lambda: now[0])
    browser = client(seeded)
    for _ in range(3):
        assert browser.post("/login", data={"username": "audit", "password": "guess"}).status_code == 401
    blocked = browser.post("/login", data={"username": "audit", "password": "audit-pw"})
    assert blocked.status_code == 429 and "Trop d&#39;essais" in blocked.text
    now[0] = 61.0
    assert browser.post("/login", data={"username": "audit", "password": "audit-pw"}).status_code == 303


def test_a_handler_sees_only_their_own_complaints(seeded: Seeded) -> None:
    alice = client(seeded, ALICE)
    invoice, delivery = seeded.references["invoice"], seeded.references["delivery"]
    assert references(alice.get("/").text) == [invoice]
    # Asking for another handler's complaints by URL still shows only hers.
    assert references(alice.get(f"/?handler={BOB}").text) == [invoice]
    refused = alice.get(f"/complaints/{delivery}")
    assert refused.status_code == 403 and delivery not in refused.text.replace(f"/complaints/{delivery}", "")
    bob = client(seeded, BOB)
    assert bob.get(f"/complaints/{invoice}").status_code == 403
    sha = _sha256_links(alice.get(f"/complaints/{invoice}").text)[0]
    assert bob.get(f"/complaints/{invoice}/attachments/{sha}").status_code == 403
    assert alice.get(f"/complaints/{invoice}/attachments/{sha}").content == PDF


def test_supervisor_and_auditor_see_everything(seeded: Seeded) -> None:
    for user in ("qualite", "audit"):
        browser = client(seeded, user)
        assert len(references(browser.get("/").text)) == 4
        assert browser.get(f"/complaints/{seeded.references['delivery']}").status_code == 200


def test_filters_and_search_narrow_the_register(seeded: Seeded) -> None:
    browser = client(seeded, "qualite")
    refs = seeded.references
    assert references(browser.get(f"/?handler={ALICE}").text) == [refs["invoice"]]
    assert references(browser.get("/?q=FACTURE").text) == [refs["invoice"]]  # subject and text, any case
    assert references(browser.get("/?q=jamais").text) == [refs["older"]]  # in the text only
    assert references(browser.get("/?q=100%").text) == []  # LIKE's wildcards are searched as text
    assert references(browser.get("/?status=received").text) == []  # all acknowledged by the relay
    assert len(references(browser.get("/?status=acknowledged").text)) == 4
    assert references(browser.get("/?period=2026-11-23").text) == [refs["older"]]
    assert set(references(browser.get("/?period=2026-12").text)) == {refs["invoice"], refs["delivery"], refs["script"]}
    assert references(browser.get("/?channel=phone").text) == []
    bad = browser.get("/?status=lost")
    assert bad.status_code == 400 and "status" in bad.text
    assert browser.get("/?period=2026-13").status_code == 400


def test_the_register_is_sorted_and_paged_in_the_url(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = client(seeded, "qualite")
    newest_first = references(browser.get("/").text)
    assert newest_first[-1] == seeded.references["older"]
    assert references(browser.get("/?sort=received&order=asc").text) == newest_first[::-1]
    by_subject = references(browser.get("/?sort=subject&order=asc").text)
    assert by_subject[0] == seeded.references["script"]  # "<" sorts before letters
    monkeypatch.setattr("daemon.web.query.PAGE_SIZE", 3)
    first = browser.get("/?q=e")
    assert len(references(first.text)) == 3 and 'href="?q=e&amp;page=2' in first.text
    second = browser.get("/?q=e&page=2")
    assert len(references(second.text)) == 1 and set(references(first.text) + references(second.text)) == set(
        newest_first
    )


def test_the_sheet_shows_the_fields_attachments_and_history(seeded: Seeded) -> None:
    browser = client(seeded, "qualite")
    ref = seeded.references["invoice"]
    page = browser.get(f"/complaints/{ref}").text
    assert "Erreur sur ma facture" in page and "compte deux fois la livraison" in page
    assert "alice@example.com" in page and "accusé envoyé" in page
    assert "facture.pdf" in page
    history = re.findall(r'<tr class="event"><td>[^<]*</td><td>([^<]*)</td>', page)
    assert history[0] == "received" and len(history) >= 2
    [sha] = _sha256_links(page)
    download = browser.get(f"/complaints/{ref}/attachments/{sha}")
    assert download.content == PDF
    assert download.headers["content-type"] == "application/octet-stream"
    assert 'attachment; filename="facture.pdf"' in download.headers["content-disposition"]
    assert browser.get(f"/complaints/{ref}/attachments/{'0' * 64}").status_code == 404
    assert browser.get("/complaints/REC-2026-999999").status_code == 404


def test_what_customers_wrote_is_shown_as_text(seeded: Seeded) -> None:
    browser = client(seeded, "qualite")
    for page in (browser.get("/").text, browser.get(f"/complaints/{seeded.references['script']}").text):
        assert SCRIPT_SUBJECT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img" not in page
    csp = browser.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_the_pages_speak_the_register_language(tmp_path: Path) -> None:
    seeded = seed(tmp_path / "fr")
    english = seed(tmp_path / "en", register={"language": "en"})
    assert "Registre des réclamations" in client(seeded, "qualite").get("/").text
    page = client(english, "qualite").get("/").text
    assert "Complaints register" in page and "acknowledged" in page


def test_a_trusted_proxy_names_the_user_and_no_one_else_can(tmp_path: Path) -> None:
    seeded = seed(tmp_path, trusted_user_header="X-Remote-User", trusted_proxies=["127.0.0.1"])
    app = create_app(seeded.site, KEY)
    from_proxy = TestClient(app, client=("127.0.0.1", 5000), follow_redirects=False)
    assert references(from_proxy.get("/", headers={"X-Remote-User": BOB}).text) == sorted(
        [seeded.references["delivery"], seeded.references["script"], seeded.references["older"]],
        reverse=True,
    )
    assert from_proxy.get("/", headers={"X-Remote-User": "stranger"}).status_code == 303
    elsewhere = TestClient(app, client=("192.0.2.7", 5000), follow_redirects=False)
    assert elsewhere.get("/", headers={"X-Remote-User": "qualite"}).status_code == 303


def test_the_secret_key_file_is_made_private_once(tmp_path: Path) -> None:
    path = tmp_path / "web-secret-key"
    key = secret_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert secret_key(path) == key
    with pytest.raises(ConfigError, match="web.secret_key_file"):
        secret_key(tmp_path / "missing-dir" / "key")


@pytest.mark.parametrize(
    ("web", "key"),
    [
        ({"listen": "localhost"}, "web.listen"),
        ({"listen": "127.0.0.1:99999"}, "web.listen"),
        ({"users": [{"name": "x", "role": "boss"}]}, "web.users[0].role"),
        ({"users": [{"name": "carol@example.com", "role": "handler"}]}, "web.users[0].name"),
        ({"users": [{"name": "x", "role": "auditor", "password_hash": "hunter2"}]}, "web.users[0].password_hash"),
        ({"trusted_user_header": "X-Remote-User"}, "web.trusted_proxies"),
        ({"colour": "blue"}, "web.colour"),
    ],
)
def test_a_bad_web_section_names_its_key(tmp_path: Path, web: dict, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_of(tmp_path, web=web)
    assert raised.value.path == key


def test_hash_password_prints_a_hash_the_view_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert main(["web", "hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt$") and "correct horse" not in printed
    assert verify_password("correct horse", printed) and not verify_password("correct horse ", printed)
    config_of(Path("/tmp"), web={"users": [{"name": "x", "role": "auditor", "password_hash": printed}]})


def _sha256_links(page: str) -> list[str]:
    return re.findall(r"/attachments/([0-9a-f]{64})", page)


def test_the_export_is_what_the_register_page_shows(seeded: Seeded) -> None:
    import csv
    import io
    import json

    refs = seeded.references
    assert client(seeded).get("/export.csv").status_code == 401
    assert client(seeded).get("/export.json").status_code == 401
    supervisor = client(seeded, "qualite")
    page = supervisor.get("/?q=facture").text
    assert 'href="/export.csv?q=facture"' in page
    everything = supervisor.get("/export.csv")
    assert everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))
    assert sorted(row["reference"] for row in rows) == sorted(refs.values())
    assert [row["reference"] for row in json.loads(supervisor.get("/export.json?q=facture").text)] == [refs["invoice"]]
    alice = client(seeded, ALICE)
    mine = json.loads(alice.get(f"/export.json?handler={BOB}").text)
    assert [row["reference"] for row in mine] == [refs["invoice"]]
    assert supervisor.get("/export.csv?status=lost").status_code == 400


def test_the_printable_sheet_is_the_sheet_show_writes(seeded: Seeded) -> None:
    ref = seeded.references["script"]
    supervisor = client(seeded, "qualite")
    assert f'href="/complaints/{ref}/sheet"' in supervisor.get(f"/complaints/{ref}").text
    printable = supervisor.get(f"/complaints/{ref}/sheet")
    assert printable.status_code == 200 and ref in printable.text
    assert SCRIPT_SUBJECT not in printable.text and "&lt;script&gt;" in printable.text
    assert client(seeded, ALICE).get(f"/complaints/{ref}/sheet").status_code == 403
    assert client(seeded).get(f"/complaints/{ref}/sheet").headers["location"] == "/login"


def test_the_report_is_for_supervisors_and_auditors(seeded: Seeded) -> None:
    supervisor = client(seeded, "audit")
    assert 'href="/report"' in supervisor.get("/").text
    report = supervisor.get("/report?period=2026-12")
    assert report.status_code == 200 and "<svg" in report.text and "2026-12" in report.text
    assert supervisor.get("/report?period=soon").status_code == 400
    alice = client(seeded, ALICE)
    assert 'href="/report"' not in alice.get("/").text
    assert alice.get("/report?period=2026-12").status_code == 403
    assert client(seeded).get("/report").headers["location"] == "/login"


def test_each_count_of_the_report_links_to_the_complaints_behind_it(seeded: Seeded) -> None:
    """A count on the web's report page opens the register page listing exactly those complaints;
    the report written to a file (`complaintsd report`) links nowhere."""
    supervisor = client(seeded, "audit")
    for period in ("2026-11", "2026-Q4", "2026"):
        page = supervisor.get(f"/report?period={period}").text
        links = re.findall(r'<a href="(/\?period=[^"]+)">(\d+)</a>', page)
        assert len(links) >= 3, f"the total, the categories, channels and severities of {period}"
        for href, count in links:
            listed = references(supervisor.get(html.unescape(href)).text)
            assert len(listed) == int(count), f"{href} lists {listed}, the report counts {count}"
    total = re.search(r'<a href="/\?period=2026">(\d+)</a>', page)
    assert total is not None and int(total[1]) == len(references(supervisor.get("/").text))
    made = make_report(seeded.config, seeded.site.register, parse_period("2026"), seeded.clock())
    assert 'href="/' not in render(made, "html")
