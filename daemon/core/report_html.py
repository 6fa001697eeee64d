"""The quality report as one self-contained HTML page: tables, charts drawn here as inline SVG
(pygal, no JavaScript), print styles, the stamp and the definitions, in the register's language.

Nothing in the page points outside it: pygal's SVG comes with comments naming its site, a config
script and an XML namespace; `_inline` drops them (tests/test_report.py reads the page for URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

from daemon.core.report import UNSET, Durations, Headline, Kept, Report
from daemon.core.report_render import Stamp, content_hash, definitions, figures

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Complaints report",
        "period": "Period",
        "previous": "compared with",
        "as_of": "as of",
        "volumes": "Volumes",
        "month": "Month",
        "category": "Category",
        "channel": "Channel",
        "severity": "Severity",
        "complaints": "Complaints",
        "unset": "unset",
        "deadlines": "Deadlines kept",
        "ack": "Acknowledgement",
        "answer": "Answer",
        "met": "met",
        "missed": "missed",
        "pending": "pending",
        "share": "share met",
        "times": "Times",
        "unit": "Unit",
        "cases": "Cases",
        "median": "Median",
        "p90": "90th percentile",
        "business_days": "business days",
        "calendar_days": "calendar days",
        "hours": "hours",
        "handlers": "Open and overdue by handler",
        "handler": "Handler",
        "open": "open",
        "overdue": "overdue",
        "systemic": "Systemic complaints",
        "recurring": "Recurring complaints",
        "customer": "same customer",
        "subject": "same category and subject",
        "causes": "Causes",
        "top_causes": "Most frequent causes",
        "actions": "Actions",
        "kind": "Kind",
        "status": "Status",
        "overdue_actions": "Overdue actions",
        "owner": "Owner",
        "due": "Due",
        "compensation": "Compensation",
        "type": "Type",
        "currency": "Currency",
        "total": "Total",
        "satisfaction": "Satisfaction",
        "point": "Point",
        "answered": "answers",
        "yes": "yes",
        "no": "no",
        "marks": "marks 1–5",
        "mean": "mean mark",
        "understood": "understood",
        "relationship": "relationship",
        "mediation": "Mediation dates passed without a final answer",
        "mediation_line": "{referable} complaints without a final answer past their mediator referral date; "
        "{limit_passed} of them past the one-year limit (L.612-2)",
        "mediation_listed": "The {listed} oldest are listed below; complaintsd export gives the dates of every one.",
        "received": "Received",
        "mediator_from": "Mediator from",
        "limit": "One-year limit",
        "limit_passed": "limit passed",
        "comparison": "Comparison with the previous period",
        "this_period": "this period",
        "previous_period": "previous period",
        "compensated": "compensated",
        "mails": "Mails received",
        "mails_line": "{received} mails = {registered} registered + {follow_ups} follow-ups + {robots} robots "
        "kept + {quarantined} quarantined + {duplicates} duplicates + {other} other",
        "balanced": "balanced",
        "unbalanced": "DOES NOT BALANCE",
        "typed_in": "complaints typed in (not mails): {typed_in}",
        "none": "none",
        "product": "Product",
        "rules": "Rules in force",
        "timezone": "Time zone",
        "generated": "Made at",
        "hash": "SHA-256 of the figures",
        "definitions": "Definitions",
    },
    "fr": {
        "title": "Rapport des réclamations",
        "period": "Période",
        "previous": "comparée à",
        "as_of": "au",
        "volumes": "Volumes",
        "month": "Mois",
        "category": "Catégorie",
        "channel": "Canal",
        "severity": "Gravité",
        "complaints": "Réclamations",
        "unset": "non renseigné",
        "deadlines": "Délais tenus",
        "ack": "Accusé de réception",
        "answer": "Réponse",
        "met": "tenus",
        "missed": "manqués",
        "pending": "en cours",
        "share": "part tenue",
        "times": "Délais de traitement",
        "unit": "Unité",
        "cases": "Cas",
        "median": "Médiane",
        "p90": "90e centile",
        "business_days": "jours ouvrés",
        "calendar_days": "jours calendaires",
        "hours": "heures",
        "handlers": "En cours et en retard par gestionnaire",
        "handler": "Gestionnaire",
        "open": "en cours",
        "overdue": "en retard",
        "systemic": "Réclamations systémiques",
        "recurring": "Réclamations récurrentes",
        "customer": "même client",
        "subject": "même catégorie et objet",
        "causes": "Causes",
        "top_causes": "Causes les plus fréquentes",
        "actions": "Actions",
        "kind": "Nature",
        "status": "État",
        "overdue_actions": "Actions en retard",
        "owner": "Responsable",
        "due": "Échéance",
        "compensation": "Gestes commerciaux",
        "type": "Type",
        "currency": "Devise",
        "total": "Total",
        "satisfaction": "Satisfaction",
        "point": "Point",
        "answered": "réponses",
        "yes": "oui",
        "no": "non",
        "marks": "notes 1–5",
        "mean": "note moyenne",
        "understood": "compréhension",
        "relationship": "relation",
        "mediation": "Médiation : dates passées sans réponse définitive",
        "mediation_line": "{referable} réclamations sans réponse définitive passé la date de saisine du "
        "médiateur ; {limit_passed} d'entre elles au-delà de la limite d'un an (L.612-2)",
        "mediation_listed": "Les {listed} plus anciennes sont listées ci-dessous ; complaintsd export donne les "
        "dates de chacune.",
        "received": "Reçue le",
        "mediator_from": "Médiateur à partir du",
        "limit": "Limite d'un an",
        "limit_passed": "limite passée",
        "comparison": "Comparaison avec la période précédente",
        "this_period": "cette période",
        "previous_period": "période précédente",
        "compensated": "avec geste",
        "mails": "Courriels reçus",
        "mails_line": "{received} courriels = {registered} enregistrés + {follow_ups} suites + {robots} robots "
        "conservés + {quarantined} en quarantaine + {duplicates} doublons + {other} autres",
        "balanced": "équilibré",
        "unbalanced": "NE S'ÉQUILIBRE PAS",
        "typed_in": "réclamations saisies (hors courriels) : {typed_in}",
        "none": "aucune",
        "product": "Produit",
        "rules": "Règles en vigueur",
        "timezone": "Fuseau horaire",
        "generated": "Établi le",
        "hash": "SHA-256 des chiffres",
        "definitions": "Définitions",
    },
}

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222; max-width: 190mm; margin: auto; }
h1 { font-size: 16pt; margin-bottom: 0; } h2 { font-size: 12pt; border-bottom: 1px solid #999; margin-top: 1.2em; }
table { border-collapse: collapse; margin: .4em 0; } td, th { border: 1px solid #bbb; padding: 2px 6px; }
th { background: #eee; text-align: left; } td.n { text-align: right; } .chart svg { width: 100%; height: auto; }
section, .chart, table { break-inside: avoid; } dl dt { font-weight: bold; } dl dd { margin: 0 0 .4em 1em; }
.stamp { font-size: 8pt; color: #555; } .alert { color: #b00; font-weight: bold; }
@page { size: A4; margin: 15mm; } @media print { body { max-width: none; } h2 { break-after: avoid; } }
"""

CHART_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="DejaVu Sans, Arial, sans-serif",
    colors=("#2b6cb0", "#c53030", "#d69e2e", "#38a169", "#805ad5", "#718096"),
)


def _chart_svg(chart: pygal.graph.graph.Graph, name: str) -> Markup:
    """pygal's SVG, made self-contained and stable: no comments, script or namespace URL, a fixed id."""
    svg = chart.render(is_unicode=True)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", f"chart-{name}", svg)
    # pygal builds the SVG as an element tree: the labels it draws are escaped there.
    return Markup(f'<div class="chart">{svg}</div>')


def _chart(kind: type, title: str, labels: Sequence[str], series: Iterable[tuple[str, Sequence[int]]], name: str):
    chart = kind(
        js=[],
        disable_xml_declaration=True,
        style=CHART_STYLE,
        width=640,
        height=260,
        title=title,
        show_legend=True,
        legend_at_bottom=True,
        print_values=True,
        print_zeroes=False,
    )
    chart.x_labels = list(labels)
    for label, values in series:
        chart.add(label, list(values))
    return _chart_svg(chart, name)


@dataclass(frozen=True)
class Linked:
    """A figure and the web view's page of the complaints behind it (or a reference and its sheet)."""

    value: object
    href: str


class _Page:
    """`links`: the page is served by the web view, whose register page lists what a figure counts
    (a report written to a file links nowhere: it must stand alone)."""

    def __init__(self, language: str, links: bool = False, period: str = "") -> None:
        self.words = WORDS.get(language, WORDS["en"])
        self.parts: list[str] = []
        self.links = links
        self.period = period

    def behind(self, value: object, **query: str) -> object:
        """`value`, linked to the register page narrowed by `query` within the report's period."""
        return Linked(value, "/?" + urlencode({"period": self.period, **query})) if self.links else value

    def anchor(self, value: object, html: str) -> str:
        return f'<a href="{escape(value.href)}">{html}</a>' if isinstance(value, Linked) else html

    def w(self, key: str) -> str:
        return self.words.get(key, key)

    def label(self, value: str) -> str:
        return self.w("unset") if value == UNSET else value

    def add(self, html: str | Markup) -> None:
        self.parts.append(str(html))

    def h2(self, key: str) -> None:
        self.add(f"<h2>{escape(self.w(key))}</h2>")

    def table(self, head: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        cells = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = (
            "".join("<tr>" + "".join(self.cell(value) for value in row) + "</tr>" for row in rows)
            or f'<tr><td colspan="{len(head)}">{escape(self.w("none"))}</td></tr>'
        )
        self.add(f"<table><tr>{cells}</tr>{body}</table>")

    def cell(self, value: object) -> str:
        shown = value.value if isinstance(value, Linked) else value
        if isinstance(shown, int | float) and not isinstance(shown, bool):
            return f'<td class="n">{self.anchor(value, str(escape(_number(shown))))}</td>'
        return f"<td>{self.anchor(value, str(escape('' if shown is None else str(shown))))}</td>"

    def sheet(self, reference: str) -> object:
        """A complaint's reference, linked to its sheet in the web view."""
        return Linked(reference, f"/complaints/{quote(reference)}") if self.links else reference


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def _share(kept: Kept) -> str:
    return "–" if kept.share is None else f"{kept.share * 100:.1f} %"


def to_html(report: Report, stamp: Stamp, links: bool = False) -> str:
    """The report as one self-contained page; `links` (the web view) makes each count of complaints
    a link to the register page listing them, and each reference a link to its sheet."""
    page = _Page(stamp.language, links, report.period.label)
    w = page.w
    _header(page, report, stamp)
    _volumes(page, report)
    page.h2("deadlines")
    page.table(
        ("", w("met"), w("missed"), w("pending"), w("share")),
        [
            (w(name), k.met, k.missed, k.pending, _share(k))
            for name, k in (("ack", report.ack), ("answer", report.answer))
        ],
    )
    page.add(
        _chart(
            pygal.StackedBar,
            w("deadlines"),
            (w("ack"), w("answer")),
            [(w(v), (getattr(report.ack, v), getattr(report.answer, v))) for v in ("met", "missed", "pending")],
            "deadlines",
        )
    )
    page.h2("times")
    page.table(
        ("", w("unit"), w("cases"), w("median"), w("p90")),
        [(w(name), w(d.unit), d.cases, d.median, d.p90) for name, ds in _times(report) for d in ds],
    )
    page.h2("handlers")
    page.table(
        (w("handler"), w("open"), w("overdue")),
        [(h.handler, h.open, page.behind(h.overdue, handler=h.handler, overdue="1")) for h in report.handlers],
    )
    _mediation(page, report)
    page.h2("systemic")
    systemic = page.anchor(page.behind(len(report.systemic), scope="systemic"), str(len(report.systemic)))
    page.add(f"<p>{systemic}: {escape(', '.join(report.systemic)) or escape(w('none'))}</p>")
    page.h2("recurring")
    page.table(("", "", w("complaints")), [(w(r.kind), r.key, ", ".join(r.references)) for r in report.recurring])
    _causes_and_actions(page, report)
    _money_and_satisfaction(page, report)
    _comparison(page, report)
    _mails(page, report)
    _definitions(page, stamp)
    return _document(page, report, stamp)


def _times(report: Report) -> tuple[tuple[str, tuple[Durations, ...]], ...]:
    return (("ack", report.ack_times), ("answer", report.answer_times))


def _header(page: _Page, report: Report, stamp: Stamp) -> None:
    w = page.w
    as_of = report.as_of.strftime("%Y-%m-%d %H:%M UTC")
    page.add(f"<h1>{escape(w('title'))} — {escape(report.period.label)}</h1>")
    page.add(
        f"<p>{escape(w('period'))} {report.period.first} … {report.period.last} ({escape(stamp.timezone)}), "
        f"{escape(w('previous'))} {escape(report.previous_period.label)}; {escape(w('as_of'))} {as_of}</p>"
    )
    _stamp(page, report, stamp)


def _volumes(page: _Page, report: Report) -> None:
    w = page.w
    page.h2("volumes")
    total = page.anchor(page.behind(report.current.complaints), str(report.current.complaints))
    page.add(f"<p>{escape(w('complaints'))}: {total}</p>")
    months = report.by_month
    page.add(
        _chart(pygal.Bar, w("month"), [m for m, _ in months], [(w("complaints"), [n for _, n in months])], "month")
    )
    page.table((w("month"), w("complaints")), months)
    for key, counts in (
        ("category", report.by_category),
        ("channel", report.by_channel),
        ("severity", report.by_severity),
    ):
        if counts:
            labels = [page.label(value) for value, _ in counts]
            page.add(_chart(pygal.HorizontalBar, w(key), labels, [(w("complaints"), [n for _, n in counts])], key))
        page.table(
            (w(key), w("complaints")),
            [(page.label(value), n if value == UNSET else page.behind(n, **{key: value})) for value, n in counts],
        )


def _mediation(page: _Page, report: Report) -> None:
    w = page.w
    page.h2("mediation")
    counts = {"referable": report.mediation_referable, "limit_passed": report.mediation_limit_passed}
    page.add(f"<p>{escape(w('mediation_line').format(**counts))}</p>")
    if report.mediation_referable > len(report.mediation):
        page.add(f"<p>{escape(w('mediation_listed').format(listed=len(report.mediation)))}</p>")
    page.table(
        ("", w("handler"), w("received"), w("mediator_from"), w("limit"), ""),
        [
            (
                page.sheet(m.reference),
                m.handler,
                m.received_at.date().isoformat(),
                m.refer_from.date().isoformat(),
                m.limit.date().isoformat(),
                w("limit_passed") if m.limit_passed else "",
            )
            for m in report.mediation
        ],
    )


def _causes_and_actions(page: _Page, report: Report) -> None:
    w = page.w
    page.h2("causes")
    page.table((w("category"), w("complaints")), [(page.label(c), n) for c, n in report.causes_by_category])
    page.add(f"<p>{escape(w('top_causes'))}</p>")
    page.table(("", ""), report.top_causes)
    page.h2("actions")
    page.table((w("kind"), w("status"), ""), [(a.kind, a.status, a.count) for a in report.actions])
    if report.actions:
        kinds = sorted({a.kind for a in report.actions})
        statuses = sorted({a.status for a in report.actions})
        counts = {(a.kind, a.status): a.count for a in report.actions}
        series = [(status, [counts.get((kind, status), 0) for kind in kinds]) for status in statuses]
        page.add(_chart(pygal.StackedBar, w("actions"), kinds, series, "actions"))
    page.add(f"<p>{escape(w('overdue_actions'))}</p>")
    page.table(
        ("", "#", w("kind"), w("owner"), w("due")),
        [(a.reference, a.number, a.kind, a.owner or "", a.due_on.isoformat()) for a in report.overdue_actions],
    )


def _money_and_satisfaction(page: _Page, report: Report) -> None:
    w = page.w
    page.h2("compensation")
    page.table(
        (w("type"), w("currency"), w("complaints"), w("total")),
        [(c.type, c.currency, c.count, f"{c.total:.2f}") for c in report.compensation],
    )
    page.h2("satisfaction")
    page.table(
        (w("point"), w("answered"), w("yes"), w("no"), w("marks"), w("mean")),
        [
            (
                w(s.point),
                s.answered,
                s.yes,
                s.no,
                " / ".join(str(n) for n in s.marks),
                "–" if s.mean_mark is None else f"{s.mean_mark:.2f}",
            )
            for s in report.satisfaction
        ],
    )


def _headline_rows(page: _Page, now: Headline, before: Headline) -> list[tuple[object, ...]]:
    w = page.w
    return [
        (w("complaints"), now.complaints, before.complaints),
        (f"{w('ack')}: {w('share')}", _share(now.ack), _share(before.ack)),
        (f"{w('answer')}: {w('share')}", _share(now.answer), _share(before.answer)),
        (w("systemic"), now.systemic, before.systemic),
        (w("open"), now.open, before.open),
        (w("overdue"), now.overdue, before.overdue),
        (w("compensated"), now.compensated, before.compensated),
    ]


def _comparison(page: _Page, report: Report) -> None:
    w = page.w
    page.h2("comparison")
    head = (
        "",
        f"{w('this_period')} ({report.period.label})",
        f"{w('previous_period')} ({report.previous_period.label})",
    )
    page.table(head, _headline_rows(page, report.current, report.previous))


def _mails(page: _Page, report: Report) -> None:
    w = page.w
    line = report.completeness
    values = {name: getattr(line, name) for name in ("received", "registered", "follow_ups", "robots", "quarantined")}
    values |= {"duplicates": line.duplicates, "other": line.other, "typed_in": line.typed_in}
    verdict = w("balanced") if line.balanced else f'<span class="alert">{escape(w("unbalanced"))}</span>'
    page.h2("mails")
    page.add(f"<p>{escape(w('mails_line').format(**values))}: {verdict}. {escape(w('typed_in').format(**values))}</p>")


def _stamp(page: _Page, report: Report, stamp: Stamp) -> None:
    """Under the title: what the figures were made with (the definitions close the page)."""
    w = page.w
    rows = (
        (w("product"), f"complaintsd {stamp.version}"),
        (w("rules"), ", ".join(stamp.rules)),
        (w("timezone"), stamp.timezone),
        (w("generated"), stamp.generated_at.isoformat()),
        (w("hash"), content_hash(figures(report))),
    )
    page.add('<div class="stamp">' + "".join(f"<div>{escape(k)}: {escape(v)}</div>" for k, v in rows) + "</div>")


def _definitions(page: _Page, stamp: Stamp) -> None:
    page.h2("definitions")
    page.add(
        "<dl>" + "".join(f"<dt>{escape(n)}</dt><dd>{escape(t)}</dd>" for n, t in definitions(stamp.language)) + "</dl>"
    )


def _document(page: _Page, report: Report, stamp: Stamp) -> str:
    title = f"{page.w('title')} {report.period.label}"
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(stamp.language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(page.parts)
        + "\n</body></html>\n"
    )
