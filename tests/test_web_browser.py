"""The web view in a real browser: Debian's headless Chromium, driven by Selenium through Debian's chromedriver.

The view is served by uvicorn on a free loopback port (a thread of this process, stopped after the
module), over a register seeded by the runners (tests/web.py). What a person would see: the login,
the register and a filter narrowing it, a sheet and its history, a handler refused another handler's
complaint and file, a visitor sent to the login, and a script in a subject shown as text, no dialog.
No browser is downloaded: the binaries are Debian's (`make test-deps`), and Selenium is told so.

With COMPLAINTSD_SCREENSHOTS=docs the tests also take the README's pictures of the register, a sheet
and the report (docs/web-*.png); unset, as in CI, they write nothing into the repository.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from daemon.web.app import create_app
from tests.conftest import require
from tests.runners import ALICE, BOB
from tests.web import SCRIPT_SUBJECT, Seeded, seed

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = os.environ.get("COMPLAINTSD_SCREENSHOTS", "")
ROOT = Path(__file__).resolve().parents[1]


def screenshot(driver, name: str, height: int) -> None:
    """The page as the README shows it (docs/web-<name>.png), when COMPLAINTSD_SCREENSHOTS names a folder
    (relative to the repository); the window is made 1280 px wide and `height` high for it."""
    if not SCREENSHOTS:
        return
    folder = ROOT / SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    size = driver.get_window_size()
    driver.set_window_size(1280, height)
    try:
        assert driver.save_screenshot(str(folder / f"web-{name}.png")), name
    finally:
        driver.set_window_size(size["width"], size["height"])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("register"))


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    app = create_app(seeded.site, "browser-test-key-" + "k" * 48)
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    require(
        None
        if CHROMIUM and CHROMEDRIVER
        else "chromium or chromedriver is missing (apt install chromium chromium-driver)"
    )

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch a browser or a driver
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser, base_url: str):
    """The browser, logged out, with a helper to log in as one of tests/web.py's users."""
    browser.get(base_url + "/login")
    browser.delete_all_cookies()
    return Visit(browser, base_url)


class Visit:
    def __init__(self, driver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def log_in(self, user: str) -> None:
        self.open("/login")
        self.driver.find_element(By.ID, "username").send_keys(user)
        self.driver.find_element(By.ID, "password").send_keys(f"{user}-pw")
        self.driver.find_element(By.ID, "submit").click()
        self.arrive(lambda url: url == self.base_url + "/")

    def arrive(self, where: Callable[[str], bool]) -> None:
        """Wait for the page a click leads to: `click` returns before the browser has followed it."""
        WebDriverWait(self.driver, 30).until(lambda driver: where(driver.current_url))

    def texts(self, selector: str) -> list[str]:
        return [element.text for element in self.driver.find_elements(By.CSS_SELECTOR, selector)]

    def no_dialog(self) -> bool:
        try:
            self.driver.switch_to.alert  # noqa: B018 (the property raises when no dialog is open)
        except NoAlertPresentException:
            return True
        return False


def test_a_supervisor_logs_in_filters_the_register_and_reads_a_sheet(page: Visit, seeded: Seeded) -> None:
    page.log_in("qualite")
    assert sorted(page.texts("a.reference")) == sorted(seeded.references.values())
    screenshot(page.driver, "register", 720)
    page.driver.find_element(By.ID, "filter-q").send_keys("facture")
    page.driver.find_element(By.ID, "filter").click()
    page.arrive(lambda url: "q=facture" in url)
    assert page.texts("a.reference") == [seeded.references["invoice"]]
    page.driver.find_element(By.CSS_SELECTOR, "a.reference").click()
    page.arrive(lambda url: url.endswith(f"/complaints/{seeded.references['invoice']}"))
    assert page.driver.find_element(By.ID, "subject").text == "Erreur sur ma facture"
    events = page.texts("#history tr.event td:nth-child(2)")
    assert events[0] == "received" and len(events) >= 2
    assert page.texts("#attachments a") == ["facture.pdf"]
    screenshot(page.driver, "sheet", 1400)


def test_the_report_page_shows_its_charts(page: Visit) -> None:
    page.log_in("qualite")
    page.open("/report?period=2026")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "Rapport des réclamations — 2026"
    charts = page.driver.find_elements(By.CSS_SELECTOR, ".chart svg")
    # Months, category, channel, severity and deadlines (no action recorded: no actions chart).
    assert len(charts) == 5
    assert all(chart.size["width"] > 300 and chart.size["height"] > 100 for chart in charts), [
        chart.size for chart in charts
    ]
    assert page.no_dialog()
    screenshot(page.driver, "report", 1600)


def test_a_handler_cannot_open_another_handlers_complaint_or_file(page: Visit, seeded: Seeded) -> None:
    page.log_in(BOB)
    assert seeded.references["invoice"] not in page.texts("a.reference")
    page.open(f"/complaints/{seeded.references['invoice']}")
    assert page.driver.find_element(By.ID, "problem").text == "Cette réclamation n'est pas attribuée à votre nom."
    assert "403" in page.driver.title
    page.open("/")
    page.driver.delete_all_cookies()
    page.log_in(ALICE)
    page.open(f"/complaints/{seeded.references['invoice']}")
    [link] = page.driver.find_elements(By.CSS_SELECTOR, "#attachments a")
    file_path = link.get_attribute("href").removeprefix(page.base_url)
    page.driver.delete_all_cookies()
    page.log_in(BOB)
    page.open(file_path)
    assert "403" in page.driver.title


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(page: Visit, seeded: Seeded) -> None:
    page.open(f"/complaints/{seeded.references['delivery']}")
    assert page.driver.current_url == page.base_url + "/login"
    page.open("/?status=acknowledged")
    assert page.driver.current_url == page.base_url + "/login"


def test_a_script_in_a_subject_is_shown_as_text_and_opens_no_dialog(page: Visit, seeded: Seeded) -> None:
    page.log_in("qualite")
    assert SCRIPT_SUBJECT in page.texts("td.subject")
    assert page.no_dialog()
    page.open(f"/complaints/{seeded.references['script']}")
    assert page.driver.find_element(By.ID, "subject").text == SCRIPT_SUBJECT
    assert "<img src=x onerror=alert(2)>" in page.driver.find_element(By.ID, "text").text
    assert page.no_dialog()
