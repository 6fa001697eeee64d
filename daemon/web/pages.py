"""The web view's templates: pages in `daemon/web/templates/` (named `web/…`), words in the register's language.

A page's words come from `_web.j2` and the register's values (statuses, severities…) from the letters'
own `_labels.j2`, both from `templates/<language>/`, both overridable by the `[register] templates`
directory: a status renamed for the letters is renamed on the pages too. Every page is autoescaped,
because customers write the subjects, names, texts and file names shown.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from starlette.responses import HTMLResponse

from daemon.config import RegisterConfig
from daemon.core.letters.render import Templates, builtin_templates_dir

PAGES_DIR = Path(__file__).parent / "templates"


class Pages:
    def __init__(self, register: RegisterConfig) -> None:
        letters = Templates.of(register)
        search = [str(register.templates)] if register.templates else []
        search.append(str(builtin_templates_dir() / register.language))
        self.timezone = register.timezone
        self.environment = Environment(
            loader=ChoiceLoader(
                [PrefixLoader({"web": FileSystemLoader(str(PAGES_DIR))}), FileSystemLoader(search, encoding="utf-8")]
            ),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters |= {"when": self.when, "day": letters.format_date, "size": letters.format_size}
        self.environment.globals |= {
            "labels": self.environment.get_template("_labels.j2").module,
            "words": self.environment.get_template("_web.j2").module,
            "language": register.language,
            "organisation": register.organisation,
        }

    def when(self, value: datetime | None) -> str:
        """A local date and time, short and sortable by eye: "2026-11-23 10:00"."""
        return value.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M") if value else "—"

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.environment.get_template(name).render(**context), status_code=status_code)
