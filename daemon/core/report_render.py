"""The quality report as a file: JSON, CSV (and HTML, core/report_html.py), stamped and defined.

Every format says the same thing: the figures of `core.report.Report`, the stamp (product version,
deadline rules in force, time zone, when it was made and a SHA-256 of its figures, so two copies can
be told equal or not), and at the end the definition of every figure in the register's language.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.core.report import UNSET, Durations, Headline, Kept, Report


@dataclass(frozen=True)
class Stamp:
    """What the report was made with: the reader of a printed copy can tell how it was counted."""

    version: str
    rules: tuple[str, ...]  # "ack 48h", "answer 10d", "answer facturation 6bd"…
    timezone: str
    generated_at: datetime
    language: str = "fr"


DEFINITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        (
            "period",
            "Complaints received between local midnight of the first day and local midnight after the "
            "last, in the register's time zone; every figure but the mails' line is about them, as of the "
            "report's instant.",
        ),
        (
            "volumes",
            "Complaints received, counted by local month of receipt, category, channel and severity "
            "(unset: none recorded).",
        ),
        (
            "deadline kept",
            "Met: the acknowledgement (or answer) came at or before its deadline; missed: after "
            "it, or not yet while the deadline has passed; pending: not yet, not yet due. Share = met / (met + "
            "missed). The answer is the first move to answered or closed.",
        ),
        (
            "times",
            "From receipt to the acknowledgement (or first answer), in the unit of the complaint's own "
            "rule: business days (open days after the day of receipt up to the day of the event; weekends and "
            "public holidays closed) for a rule in business days, calendar days for a rule in days, hours "
            "otherwise. Median, and 90th percentile by nearest rank; cases: how many complaints each counts.",
        ),
        (
            "open and overdue",
            "Per handler, complaints of the period not yet answered nor closed; overdue: "
            "among them, those whose answer deadline has passed, or unacknowledged past the acknowledgement "
            "deadline.",
        ),
        ("systemic", "Complaints whose scope is systemic."),
        (
            "recurring",
            "Two or more complaints of the period from the same address; or of the same category "
            "whose subjects have the same significant words (reply prefixes dropped, case and accents "
            "ignored, words of four letters or more, no digits).",
        ),
        (
            "causes",
            "Causes recorded (#cause) on the period's complaints, by cause category, and the ten written most often.",
        ),
        (
            "actions",
            "Actions (#action) of the period's complaints by kind and status; overdue: open with a "
            "due date before the report's day.",
        ),
        ("compensation", "Complaints granted a compensation, by type and currency, and the sum of the amounts."),
        (
            "satisfaction",
            "The customer's answers to the closing letter's three questions (understood, "
            "actions, relationship): answers, yes, no, and marks 1 to 5 with their mean.",
        ),
        (
            "mediation",
            "Complaints of the period without a final answer (no move to answered or closed) whose "
            "mediator referral date has passed: receipt + [mediator] refer_after (two months by default), from "
            "when the customer may refer the dispute to the consumer mediator. Limit passed: more than one year "
            "since the written complaint, after which the mediator may refuse the request (Code de la "
            "consommation, art. L.612-2). Dates in the register's time zone. Both are counted; the 100 oldest "
            "are listed.",
        ),
        (
            "comparison",
            "The same headline figures for the previous period (the month, quarter or year before, "
            "or as many days before a range), as of the same instant.",
        ),
        (
            "mails",
            "Mails that arrived in the period: registered as complaints + follow-ups + robots' mails "
            "kept unanswered + quarantined + duplicates (+ other). Complaints typed in with `complaintsd add` "
            "are counted apart.",
        ),
        (
            "stamp",
            "Product version, deadline rules in force, time zone, the instant it was made, and the "
            "SHA-256 of its figures (the JSON of everything but the stamp).",
        ),
    ),
    "fr": (
        (
            "période",
            "Réclamations reçues entre minuit du premier jour et minuit après le dernier, heure du "
            "registre ; tous les chiffres sauf la ligne des courriels portent sur elles, à l'instant du rapport.",
        ),
        (
            "volumes",
            "Réclamations reçues, comptées par mois de réception, catégorie, canal et gravité "
            "(non renseigné : aucune valeur).",
        ),
        (
            "délai tenu",
            "Tenu : l'accusé de réception (ou la réponse) est parti au plus tard à l'échéance ; "
            "manqué : après, ou pas encore alors que l'échéance est passée ; en cours : pas encore, pas encore "
            "échu. Part = tenus / (tenus + manqués). La réponse est le premier passage à répondue ou close.",
        ),
        (
            "délais",
            "De la réception à l'accusé (ou à la première réponse), dans l'unité de la règle de la "
            "réclamation : jours ouvrés (jours ouvrés après le jour de réception jusqu'au jour de l'événement ; "
            "week-ends et jours fériés exclus) pour une règle en jours ouvrés, jours calendaires pour une règle "
            "en jours, heures sinon. Médiane et 90e centile (rang le plus proche) ; cas : le nombre de "
            "réclamations comptées.",
        ),
        (
            "en cours et en retard",
            "Par gestionnaire, réclamations de la période ni répondues ni closes ; "
            "en retard : parmi elles, celles dont l'échéance de réponse est passée, ou sans accusé passé son "
            "échéance.",
        ),
        ("systémiques", "Réclamations de portée systémique."),
        (
            "récurrentes",
            "Deux réclamations ou plus de la période venant de la même adresse ; ou de la même "
            "catégorie dont les objets ont les mêmes mots significatifs (préfixes de réponse ôtés, casse et "
            "accents ignorés, mots de quatre lettres ou plus, sans chiffres).",
        ),
        (
            "causes",
            "Causes relevées (#cause) sur les réclamations de la période, par catégorie de cause, et "
            "les dix les plus fréquentes.",
        ),
        (
            "actions",
            "Actions (#action) des réclamations de la période par nature et état ; en retard : "
            "ouvertes, échéance antérieure au jour du rapport.",
        ),
        ("gestes commerciaux", "Réclamations ayant obtenu un geste, par type et devise, et la somme des montants."),
        (
            "satisfaction",
            "Réponses du client aux trois questions du courrier de clôture (compréhension, "
            "actions, relation) : réponses, oui, non, et notes de 1 à 5 avec leur moyenne.",
        ),
        (
            "médiation",
            "Réclamations de la période sans réponse définitive (aucun passage à répondue ou close) "
            "dont la date de saisine du médiateur est passée : réception + [mediator] refer_after (deux mois "
            "par défaut), date à partir de laquelle le client peut saisir le médiateur de la consommation. "
            "Limite passée : plus d'un an depuis la réclamation écrite, délai au-delà duquel le médiateur peut "
            "refuser la demande (Code de la consommation, art. L.612-2). Dates à l'heure du registre. Toutes "
            "sont comptées ; les 100 plus anciennes sont listées.",
        ),
        (
            "comparaison",
            "Les mêmes chiffres pour la période précédente (mois, trimestre ou année d'avant, ou "
            "autant de jours avant un intervalle), au même instant.",
        ),
        (
            "courriels",
            "Courriels arrivés dans la période : enregistrés comme réclamations + suites + "
            "courriels de robots conservés sans réponse + quarantaine + doublons (+ autres). Les réclamations "
            "saisies avec `complaintsd add` sont comptées à part.",
        ),
        (
            "cachet",
            "Version du produit, règles de délai en vigueur, fuseau horaire, instant du rapport et "
            "SHA-256 de ses chiffres (le JSON de tout sauf le cachet).",
        ),
    ),
}


def definitions(language: str) -> tuple[tuple[str, str], ...]:
    return DEFINITIONS.get(language, DEFINITIONS["en"])


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _kept(kept: Kept) -> dict[str, Any]:
    return {"met": kept.met, "missed": kept.missed, "pending": kept.pending, "share": _share(kept.share)}


def _times(durations: tuple[Durations, ...]) -> list[dict[str, Any]]:
    return [{"unit": d.unit, "cases": d.cases, "median": d.median, "p90": d.p90} for d in durations]


def _counts(pairs: tuple[tuple[str, int], ...]) -> dict[str, int]:
    return {(key if key != UNSET else "unset"): n for key, n in pairs}


def _headline(h: Headline) -> dict[str, Any]:
    return {
        "complaints": h.complaints,
        "ack": _kept(h.ack),
        "answer": _kept(h.answer),
        "systemic": h.systemic,
        "open": h.open,
        "overdue": h.overdue,
        "compensated": h.compensated,
    }


def figures(report: Report) -> dict[str, Any]:
    """Every figure as plain JSON values: what the three formats print and the hash covers."""
    p = report.period
    return {
        "period": {
            "label": p.label,
            "first": p.first.isoformat(),
            "last": p.last.isoformat(),
            "previous": report.previous_period.label,
            "as_of": report.as_of.isoformat(),
        },
        "volumes": {
            "total": report.current.complaints,
            "by_month": dict(report.by_month),
            "by_category": _counts(report.by_category),
            "by_channel": _counts(report.by_channel),
            "by_severity": _counts(report.by_severity),
        },
        "deadlines": {"ack": _kept(report.ack), "answer": _kept(report.answer)},
        "times": {"ack": _times(report.ack_times), "answer": _times(report.answer_times)},
        "handlers": [{"handler": h.handler, "open": h.open, "overdue": h.overdue} for h in report.handlers],
        "systemic": list(report.systemic),
        "mediation": {
            "referable": report.mediation_referable,
            "limit_passed": report.mediation_limit_passed,
            "listed": len(report.mediation),
            "complaints": [
                {
                    "reference": m.reference,
                    "handler": m.handler,
                    "received": m.received_at.isoformat(),
                    "mediator_from": m.refer_from.isoformat(),
                    "limit": m.limit.isoformat(),
                    "limit_passed": m.limit_passed,
                }
                for m in report.mediation
            ],
        },
        "recurring": [{"kind": r.kind, "key": r.key, "references": list(r.references)} for r in report.recurring],
        "causes": {
            "by_category": _counts(report.causes_by_category),
            "most_frequent": [{"text": text, "count": n} for text, n in report.top_causes],
        },
        "actions": {
            "by_kind_and_status": [{"kind": a.kind, "status": a.status, "count": a.count} for a in report.actions],
            "overdue": [
                {
                    "reference": a.reference,
                    "number": a.number,
                    "kind": a.kind,
                    "owner": a.owner,
                    "due": a.due_on.isoformat(),
                }
                for a in report.overdue_actions
            ],
        },
        "compensation": [
            {"type": c.type, "currency": c.currency, "count": c.count, "total": f"{c.total:.2f}"}
            for c in report.compensation
        ],
        "satisfaction": [
            {
                "point": s.point,
                "answered": s.answered,
                "yes": s.yes,
                "no": s.no,
                "marks": dict(zip(("1", "2", "3", "4", "5"), s.marks, strict=True)),
                "mean_mark": None if s.mean_mark is None else round(s.mean_mark, 2),
            }
            for s in report.satisfaction
        ],
        "mails": {
            "received": report.completeness.received,
            "registered": report.completeness.registered,
            "follow_ups": report.completeness.follow_ups,
            "robots": report.completeness.robots,
            "quarantined": report.completeness.quarantined,
            "duplicates": report.completeness.duplicates,
            "other": report.completeness.other,
            "balanced": report.completeness.balanced,
            "typed_in": report.completeness.typed_in,
        },
        "comparison": {"current": _headline(report.current), "previous": _headline(report.previous)},
    }


def content_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stamp_data(stamp: Stamp, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "product": f"complaintsd {stamp.version}",
        "rules": list(stamp.rules),
        "timezone": stamp.timezone,
        "generated_at": stamp.generated_at.isoformat(),
        "language": stamp.language,
        "content_sha256": content_hash(data),
    }


def to_json(report: Report, stamp: Stamp) -> str:
    data = figures(report)
    document = {"stamp": stamp_data(stamp, data)} | data
    document["definitions"] = dict(definitions(stamp.language))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _flatten(prefix: str, value: Any) -> list[tuple[str, str, str]]:
    """(section, key, value) rows: a spreadsheet reads one figure a line."""
    if isinstance(value, dict):
        rows: list[tuple[str, str, str]] = []
        for key, item in value.items():
            if isinstance(item, dict | list):
                rows += _flatten(f"{prefix}.{key}", item)
            else:
                rows.append((prefix, str(key), _cell(item)))
        return rows
    if isinstance(value, list):
        rows = []
        for index, item in enumerate(value, start=1):
            rows += (
                _flatten(f"{prefix}.{index}", item)
                if isinstance(item, dict | list)
                else [(prefix, str(index), _cell(item))]
            )
        return rows
    return [(prefix, "", _cell(value))]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(report: Report, stamp: Stamp) -> str:
    data = figures(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    for key, value in stamp_data(stamp, data).items():
        writer.writerow(("stamp", key, "; ".join(value) if isinstance(value, list) else value))
    for section, value in data.items():
        writer.writerows(_flatten(section, value))
    writer.writerows(("definition", name, text) for name, text in definitions(stamp.language))
    return out.getvalue()
