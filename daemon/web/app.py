"""The web view's routes: log in, the register, a complaint's sheet (and its printable form), an
attachment, the register's export (CSV, JSON) with the page's filters, and the quality report.

Read-only: no route writes a row, so no form can change the register (the login form sets a cookie,
nothing else). The session is a signed cookie (itsdangerous, through Starlette's SessionMiddleware:
HttpOnly, SameSite=Lax) naming the user, who is looked up in the config at each request: a user
removed from the config is logged out at once. Pages that are not logged in are sent to `/login`.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from ipaddress import ip_address

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daemon.config import Config, WebUser
from daemon.core.letters.render import Templates
from daemon.edges.register import Register
from daemon.edges.register.views import ComplaintView, page_of_complaints, show_complaint
from daemon.edges.storage import AttachmentStore
from daemon.errors import NotFound, ReportError
from daemon.export import Window, export, export_rules
from daemon.report import make_report, period_option
from daemon.report import render as render_report
from daemon.sheet import sheet_page
from daemon.web.access import LoginLimiter, Role, Viewer
from daemon.web.pages import Pages
from daemon.web.passwords import hash_password, verify_password
from daemon.web.query import CHOICES, KEPT, BadQuery, read_query

SESSION_COOKIE = "complaintsd_session"
# No script runs on any page (there is none), so a customer's text that slipped through escaping still
# could not run; files are never sniffed into HTML; nothing is cached (personal data).
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
SHA256 = re.compile(r"[0-9a-f]{64}")
# Compared against when the user name is unknown, so that a wrong name costs as long as a wrong password.
_NOBODY = hash_password("no such user")


class Site:
    def __init__(
        self,
        config: Config,
        register: Register,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: LoginLimiter | None = None,
    ) -> None:
        self.config = config
        self.register = register
        self.store = AttachmentStore(config.storage.path) if config.storage.path else None
        self.clock = clock
        self.limiter = limiter or LoginLimiter()
        self.pages = Pages(config.register)
        self.letters = Templates.of(config.register)
        self.export_rules = export_rules(config)
        # `?register=NAME` (`[[registers]]`): the name each register's complaints are filtered by.
        self.registers = {each.name: each.register.reference_prefix for each in config.registers}
        self.handlers = [h.email for each in config.each for h in each.routing.handlers]

    # ------------------------------------------------------------------ who is looking

    def viewer(self, request: Request) -> Viewer | None:
        web = self.config.web
        user: WebUser | None = None
        if web.trusted_user_header and self._from_proxy(request) and request.headers.get(web.trusted_user_header):
            user = web.user(request.headers[web.trusted_user_header])
        elif name := request.session.get("user"):
            user = web.user(name)
        return Viewer(user.name, Role(user.role)) if user else None

    def _from_proxy(self, request: Request) -> bool:
        try:
            peer = ip_address(request.client.host) if request.client else None
        except ValueError:
            return False
        return peer is not None and any(peer in network for network in self.config.web.trusted_proxies)

    # ------------------------------------------------------------------ routes

    def login_form(self, request: Request) -> Response:
        if self.viewer(request):
            return RedirectResponse("/", 303)
        return self.pages.render("web/login.html.j2", viewer=None, error=None, username="")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        keys = (f"user:{username.lower()}", f"peer:{request.client.host if request.client else ''}")
        if self.limiter.blocked(*keys):
            return self.pages.render("web/login.html.j2", 429, viewer=None, error="too_many", username=username)
        user = self.config.web.user(username) if username else None
        stored = user.password_hash if user and user.password_hash else _NOBODY
        matches = await run_in_threadpool(verify_password, password, stored)
        if user is None or not user.password_hash or not matches:
            self.limiter.failed(*keys)
            return self.pages.render("web/login.html.j2", 401, viewer=None, error="wrong", username=username)
        request.session.clear()
        request.session["user"] = user.name
        return RedirectResponse("/", 303)

    def logout(self, request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", 303)

    def register_page(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return RedirectResponse("/login", 303)
        try:
            query = read_query(request.query_params, self.clock(), self.config.register.timezone, self.registers)
        except BadQuery as exc:
            return self._error(viewer, 400, str(exc))
        with self.register.session() as session:
            page = page_of_complaints(session, viewer.scope(query.filters), query.page)
        kept = {name: request.query_params[name] for name in KEPT if request.query_params.get(name)}
        return self.pages.render(
            "web/register.html.j2",
            viewer=viewer,
            page=page,
            now=self.clock(),
            params=kept,
            sort=query.page.sort,
            descending=query.page.descending,
            choices=CHOICES,
            handlers=[h.email for each in self.config.each for h in each.routing.handlers]
            if viewer.sees_everything
            else [],
            registers=list(self.registers),
        )

    def sheet(self, request: Request) -> Response:
        seen = self._complaint(request)
        if isinstance(seen, Response):
            return seen
        viewer, complaint = seen
        return self.pages.render("web/sheet.html.j2", viewer=viewer, c=complaint, now=self.clock())

    def printable(self, request: Request) -> Response:
        """The complaint sheet as `complaintsd show --format html` writes it: one page to print or file."""
        seen = self._complaint(request)
        if isinstance(seen, Response):
            return seen
        viewer, complaint = seen
        config = self.config.for_reference(complaint.reference)
        return HTMLResponse(sheet_page(config, self.register, complaint, self.clock(), self.letters))

    def report(self, request: Request) -> Response:
        """The quality meeting's report for `?period=` (default: last month), as `complaintsd report`
        writes it. It counts the whole register, so a handler, who sees only their own, is refused."""
        viewer = self.viewer(request)
        if viewer is None:
            return RedirectResponse("/login", 303)
        if not viewer.sees_everything:
            return self._error(viewer, 403, "report_forbidden")
        try:
            period = period_option(request.query_params.get("period") or None, self.config, self.clock())
        except ReportError as exc:
            return self._error(viewer, 400, str(exc).replace("--period", "period"))
        made = make_report(self.config, self.register, period, self.clock())
        return HTMLResponse(render_report(made, "html", links=True))

    def export_file(self, request: Request) -> Response:
        """What the register page shows (same filters, same viewer's scope), every page of it, as
        `complaintsd export` writes it. Spooled (to disk past 1 MB), then sent: memory stays flat."""
        viewer = self.viewer(request)
        if viewer is None:
            return PlainTextResponse("log in first (POST /login)\n", 401)
        form = request.url.path.rsplit(".", 1)[-1]
        try:
            query = read_query(request.query_params, self.clock(), self.config.register.timezone, self.registers)
        except BadQuery as exc:
            return PlainTextResponse(f"{exc}\n", 400)
        # Closed by _chunks once sent (or by the collector if the client goes away first).
        spool = tempfile.SpooledTemporaryFile(max_size=1_000_000)  # noqa: SIM115
        text = io.TextIOWrapper(spool, encoding="utf-8-sig" if form == "csv" else "utf-8", newline="")
        export(
            self.register,
            text,
            form,
            Window(),
            self.clock(),
            rules=self.export_rules,
            filters=viewer.scope(query.filters),
        )
        text.flush()
        text.detach()
        spool.seek(0)
        name = f"register-{self.clock().astimezone(self.config.register.timezone):%Y-%m-%d}.{form}"
        return StreamingResponse(
            _chunks(spool),
            media_type="text/csv; charset=utf-8" if form == "csv" else "application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def attachment(self, request: Request) -> Response:
        seen = self._complaint(request)
        if isinstance(seen, Response):
            return seen
        viewer, complaint = seen
        sha256 = request.path_params["sha256"].lower()
        found = next((a for a in complaint.attachments if a.sha256 == sha256), None)
        if found is None or not SHA256.fullmatch(sha256) or self.store is None:
            return self._error(viewer, 404, "no such attachment")
        path = self.store.path_for(sha256)
        if not path.is_file():
            return self._error(viewer, 404, "the file is missing from the attachment store")
        return FileResponse(path, media_type="application/octet-stream", filename=found.filename)

    def _complaint(self, request: Request) -> tuple[Viewer, ComplaintView] | Response:
        """The viewer and the complaint of the path, or the page saying why not (login, 404, 403)."""
        viewer = self.viewer(request)
        if viewer is None:
            return RedirectResponse("/login", 303)
        try:
            with self.register.session() as session:
                complaint = show_complaint(session, request.path_params["reference"])
        except NotFound:
            return self._error(viewer, 404, "not_found")
        if not viewer.may_see(complaint):
            return self._error(viewer, 403, "forbidden")
        return viewer, complaint

    def _error(self, viewer: Viewer | None, status: int, problem: str) -> Response:
        return self.pages.render("web/error.html.j2", status, viewer=viewer, status=status, problem=problem)


def create_app(site: Site, secret_key: str) -> Starlette:
    routes = [
        Route("/login", site.login_form, methods=["GET"]),
        Route("/login", site.login, methods=["POST"]),
        Route("/logout", site.logout, methods=["POST"]),
        Route("/", site.register_page, methods=["GET"]),
        Route("/complaints/{reference}", site.sheet, methods=["GET"]),
        Route("/complaints/{reference}/sheet", site.printable, methods=["GET"]),
        Route("/complaints/{reference}/attachments/{sha256}", site.attachment, methods=["GET"]),
        Route("/report", site.report, methods=["GET"]),
        Route("/export.csv", site.export_file, methods=["GET"]),
        Route("/export.json", site.export_file, methods=["GET"]),
    ]
    lifetime = int(site.config.web.session_lifetime.total_seconds())
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie=SESSION_COOKIE, max_age=lifetime),
    ]
    return Starlette(routes=routes, middleware=middleware)


def _chunks(spool) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(65536):
            yield chunk


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (a pure ASGI middleware: it does not buffer downloads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
