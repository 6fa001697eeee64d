"""The words of the command grammar, in French and English: the tags, their values, the dates, and the help.

`tags.parse_commands` reads a command line; this module says what its words mean. Every table is
compared on folded text (`routing.fold`: no case, no accents). `grammar()` lists the commands for the
help and error letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from daemon.core.lifecycle import Status
from daemon.core.routing import fold

__all__ = [
    "COMPENSATION_WORDS",
    "COMPLEXITY_WORDS",
    "IMPACT_WORDS",
    "OUTCOME_WORDS",
    "SCOPE_WORDS",
    "SETTABLE_STATUSES",
    "SEVERITY_WORDS",
    "STATUS_WORDS",
    "TAG_WORDS",
    "UNSETTABLE_WORDS",
    "as_words",
    "Compensation",
    "CompensationType",
    "Complexity",
    "Impact",
    "Outcome",
    "Reason",
    "Scope",
    "Severity",
    "Tag",
    "grammar",
    "read_date",
]


# --- tags and values -------------------------------------------------------------------------------


class Tag(StrEnum):
    STATUS = "status"
    SEVERITY = "severity"
    CATEGORY = "category"
    ASSIGN = "assign"
    DEADLINE = "deadline"
    REPLY = "reply"
    CLOSE = "close"
    NOTE = "note"
    HELP = "help"
    # The evaluation (issue 9; docs/design.md, "What the register records").
    COMPLEXITY = "complexity"
    IMPACT = "impact"
    SCOPE = "scope"
    RELATED = "related"
    WISH = "wish"
    CAUSE = "cause"
    COMPENSATION = "compensation"
    INFORM = "inform"
    ACTION = "action"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Complexity(StrEnum):
    SIMPLE = "simple"
    MEDIUM = "medium"
    COMPLEX = "complex"


class Impact(StrEnum):
    """Who else is affected: low (this customer only) … high (many)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Scope(StrEnum):
    """Whether the cause is this complaint's alone or behind others too (then linked with #related)."""

    ISOLATED = "isolated"
    SYSTEMIC = "systemic"


class ActionKind(StrEnum):
    CURATIVE = "curative"
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class ActionStatus(StrEnum):
    """open → done → verified (effective), or abandoned with a reason; a corrective action stays
    open (listed by `list --open-actions`) until verified."""

    OPEN = "open"
    DONE = "done"
    VERIFIED = "verified"
    ABANDONED = "abandoned"


ACTION_KIND_WORDS: dict[str, ActionKind] = {
    **dict.fromkeys(("curative", "curatif"), ActionKind.CURATIVE),
    **dict.fromkeys(("corrective", "correctif"), ActionKind.CORRECTIVE),
    **dict.fromkeys(("preventive", "preventif"), ActionKind.PREVENTIVE),
}
ACTION_STATUS_WORDS: dict[str, ActionStatus] = {
    **dict.fromkeys(("done", "faite", "fait", "terminee", "termine", "realisee", "realise"), ActionStatus.DONE),
    **dict.fromkeys(("verified", "effective", "efficace", "verifiee", "verifie"), ActionStatus.VERIFIED),
    **dict.fromkeys(("abandoned", "abandonnee", "abandonne"), ActionStatus.ABANDONED),
}
# The moves an action may make (decision 11 in tags.py); verified and abandoned are final.
ACTION_MOVES: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset({ActionStatus.DONE, ActionStatus.ABANDONED}),
    ActionStatus.DONE: frozenset({ActionStatus.VERIFIED, ActionStatus.ABANDONED}),
    ActionStatus.VERIFIED: frozenset(),
    ActionStatus.ABANDONED: frozenset(),
}


class CompensationType(StrEnum):
    REFUND = "refund"
    CREDIT = "credit"
    SERVICE = "service"
    APOLOGY = "apology"
    OTHER = "other"


@dataclass(frozen=True)
class Compensation:
    """What the customer is granted (#compensation avoir 50 EUR): a type, and an amount with its
    currency when there is one. The amount is a Decimal written with two decimals ("50.00")."""

    type: CompensationType
    amount: Decimal | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", CompensationType(self.type))
        if self.amount is not None and (not isinstance(self.amount, Decimal) or self.amount < 0):
            raise ValueError(f"a compensation's amount is a Decimal of zero or more, not {self.amount!r}")
        if self.currency is not None and not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"a currency is an ISO 4217 code such as EUR, not {self.currency!r}")
        if self.currency is not None and self.amount is None:
            raise ValueError("a currency without an amount")

    def __str__(self) -> str:
        """ "credit 50.00 EUR": how the register's history and the confirmation write it."""
        amount = "" if self.amount is None else f" {self.amount:.2f}"
        return f"{self.type.value}{amount}{'' if self.currency is None else ' ' + self.currency}"


class Outcome(StrEnum):
    FOUNDED = "founded"
    PARTLY_FOUNDED = "partly_founded"
    UNFOUNDED = "unfounded"


# Decision 4 (tags.py): the statuses a handler may set with #status.
SETTABLE_STATUSES = frozenset({Status.IN_PROGRESS, Status.REOPENED})

# The tag words, folded (docs/design.md's table, plus the French verbs and nouns handlers reach for).
TAG_WORDS: dict[str, Tag] = {
    **dict.fromkeys(("status", "statut", "etat"), Tag.STATUS),
    **dict.fromkeys(("severity", "gravite", "severite"), Tag.SEVERITY),
    **dict.fromkeys(("category", "categorie"), Tag.CATEGORY),
    **dict.fromkeys(("assign", "assigner", "attribuer", "affecter"), Tag.ASSIGN),
    **dict.fromkeys(("deadline", "delai", "echeance"), Tag.DEADLINE),
    **dict.fromkeys(("reply", "answer", "reponse", "repondre"), Tag.REPLY),
    **dict.fromkeys(("close", "clore", "cloturer", "cloture"), Tag.CLOSE),
    "note": Tag.NOTE,
    **dict.fromkeys(("help", "aide"), Tag.HELP),
    **dict.fromkeys(("complexity", "complexite"), Tag.COMPLEXITY),
    "impact": Tag.IMPACT,
    **dict.fromkeys(("scope", "portee"), Tag.SCOPE),
    **dict.fromkeys(("related", "lie", "liee", "lien"), Tag.RELATED),
    **dict.fromkeys(("wish", "souhait"), Tag.WISH),
    **dict.fromkeys(("cause", "causes"), Tag.CAUSE),
    **dict.fromkeys(("compensation", "dedommagement", "geste"), Tag.COMPENSATION),
    **dict.fromkeys(("inform", "informer", "information"), Tag.INFORM),
    "action": Tag.ACTION,
}

# Values, as `tags._words` normalises them (folded, "_" and "-" as spaces, one space between words).
STATUS_WORDS: dict[str, Status] = {
    **dict.fromkeys(("en cours", "encours", "in progress"), Status.IN_PROGRESS),
    **dict.fromkeys(("rouvert", "rouverte", "reouvert", "reouverte", "reopened", "reopen"), Status.REOPENED),
}
UNSETTABLE_WORDS = frozenset(
    {"received", "recu", "recue", "acknowledged", "accuse de reception", "answered", "repondu", "repondue"}
    | {"closed", "clos", "close", "cloture", "cloturee", "ferme", "fermee"}
    | {status.value.replace("_", " ") for status in Status if status not in SETTABLE_STATUSES}
)
SEVERITY_WORDS: dict[str, Severity] = {
    **dict.fromkeys(("low", "basse", "bas", "faible"), Severity.LOW),
    **dict.fromkeys(("medium", "moyenne", "moyen"), Severity.MEDIUM),
    **dict.fromkeys(("high", "haute", "haut", "elevee", "eleve"), Severity.HIGH),
    **dict.fromkeys(("critical", "critique"), Severity.CRITICAL),
}
COMPLEXITY_WORDS: dict[str, Complexity] = {
    "simple": Complexity.SIMPLE,
    **dict.fromkeys(("medium", "moyenne", "moyen"), Complexity.MEDIUM),
    **dict.fromkeys(("complex", "complexe"), Complexity.COMPLEX),
}
IMPACT_WORDS: dict[str, Impact] = {
    **dict.fromkeys(("low", "faible", "bas", "basse"), Impact.LOW),
    **dict.fromkeys(("medium", "moyen", "moyenne"), Impact.MEDIUM),
    **dict.fromkeys(("high", "fort", "forte", "eleve", "elevee", "haut", "haute"), Impact.HIGH),
}
SCOPE_WORDS: dict[str, Scope] = {
    **dict.fromkeys(("isolated", "isolee", "isole", "ponctuelle", "ponctuel"), Scope.ISOLATED),
    **dict.fromkeys(("systemic", "systemique", "systematique"), Scope.SYSTEMIC),
}
COMPENSATION_WORDS: dict[str, CompensationType] = {
    **dict.fromkeys(("refund", "remboursement", "rembourser"), CompensationType.REFUND),
    **dict.fromkeys(("credit", "avoir", "bon d'achat", "credit note"), CompensationType.CREDIT),
    **dict.fromkeys(("service", "prestation", "geste"), CompensationType.SERVICE),
    **dict.fromkeys(("apology", "excuses", "apologies"), CompensationType.APOLOGY),
    **dict.fromkeys(("other", "autre"), CompensationType.OTHER),
}
# Currency words and signs, folded, to ISO 4217 codes; a three-letter code is taken as written.
CURRENCY_WORDS: dict[str, str] = {"€": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "£": "GBP", "chf": "CHF"}
OUTCOME_WORDS: dict[str, Outcome] = {
    **dict.fromkeys(("founded", "fondee", "fonde", "justifiee", "justifie"), Outcome.FOUNDED),
    **dict.fromkeys(
        (
            "partly founded",
            "partially founded",
            "partly",
            "partiellement",
            "partiellement fondee",
            "partiellement fonde",
            "partiellement justifiee",
            "en partie fondee",
        ),
        Outcome.PARTLY_FOUNDED,
    ),
    **dict.fromkeys(
        ("unfounded", "not founded", "non fondee", "non fonde", "infondee", "infonde", "non justifiee", "injustifiee"),
        Outcome.UNFOUNDED,
    ),
}


@dataclass(frozen=True)
class CauseFound:
    """A cause the investigation found (#cause), with its category from `[causes] categories`, if any."""

    text: str
    category: str | None = None


class Reason(StrEnum):
    """Why a command line was not understood: fixed English sentences the letters translate."""

    UNKNOWN_TAG = "unknown tag"
    SPACE_AFTER_HASH = "no space is allowed between # and the tag"
    MISSING_VALUE = "this tag needs a value"
    UNKNOWN_STATUS = "unknown status: use in_progress or reopened"
    STATUS_NOT_SETTABLE = "this status is not set by #status: #reply answers and #close closes"
    UNKNOWN_SEVERITY = "unknown severity: use low, medium, high or critical"
    NO_ADDRESS = "#assign needs exactly one email address"
    BAD_DATE = "not a date: write 2026-12-15 or 15/12/2026"
    PAST_DATE = "this date is in the past"
    UNKNOWN_OUTCOME = "unknown outcome: use founded, partly_founded or unfounded"
    EMPTY_REPLY = "#reply needs the answer text after it"
    TAG_IN_REPLY = "a tag line inside the #reply text: put #reply last"
    CONFLICT = "the same tag is given twice with different values"
    UNKNOWN_COMPLEXITY = "unknown complexity: use simple, medium or complex"
    UNKNOWN_IMPACT = "unknown impact: use low, medium or high"
    UNKNOWN_SCOPE = "unknown scope: use isolated or systemic"
    NO_REFERENCE = "#related needs exactly one complaint reference, e.g. REC-2026-000012"
    UNKNOWN_COMPENSATION = "unknown compensation: use refund, credit, service, apology or other"
    BAD_AMOUNT = "not an amount and currency: write e.g. 50 EUR or 49,90 €"
    # Raised when a well-formed command cannot apply to the complaint as it stands (commands.py).
    ILLEGAL_MOVE = "this status change is not possible from the complaint's current status"
    UNKNOWN_HANDLER = "this address is not one of the configured handlers"
    ALREADY_HANDLER = "this handler already handles the complaint"
    NO_CHANGE = "nothing to change: the complaint is already so"
    UNKNOWN_ACTION = "#action needs a kind (curative, corrective, preventive) and a text, or a number and a status"
    MISSING_REASON = "abandoning an action needs its reason"
    UNKNOWN_REFERENCE = "the register holds no complaint with this reference"
    SAME_COMPLAINT = "a complaint cannot be related to itself"
    UNKNOWN_ACTION_NUMBER = "this complaint has no action with this number"
    ILLEGAL_ACTION_MOVE = "an action goes open → done → verified, or is abandoned; never back"
    UNKNOWN_CAUSE_CATEGORY = "unknown cause category: write #cause <category>: <text>, the category one of"


def as_words(value: str) -> str:
    """A value as the tables hold it: folded, "_" and "-" as spaces, one space between words."""
    return " ".join(fold(value).replace("_", " ").replace("-", " ").split()).rstrip(".!")


# --- dates ---------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    **dict.fromkeys(("janvier", "janv", "jan", "january"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev", "feb", "february"), 2),
    **dict.fromkeys(("mars", "mar", "march"), 3),
    **dict.fromkeys(("avril", "avr", "apr", "april"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juin", "jun", "june"), 6),
    **dict.fromkeys(("juillet", "juil", "jul", "july"), 7),
    **dict.fromkeys(("aout", "aug", "august"), 8),
    **dict.fromkeys(("septembre", "sept", "sep", "september"), 9),
    **dict.fromkeys(("octobre", "oct", "october"), 10),
    **dict.fromkeys(("novembre", "nov", "november"), 11),
    **dict.fromkeys(("decembre", "dec", "december"), 12),
}
_WEEKDAY = (
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\.?,?\s+)?"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
_DAY_MONTH_YEAR = re.compile(_WEEKDAY + r"(\d{1,2})(?:er|st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})")
_MONTH_DAY_YEAR = re.compile(_WEEKDAY + r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


def read_date(text: str) -> date | None:
    """The date `text` (folded, one space between words) writes (tags.py, decision 5), or None."""
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
        year += 2000 if year < 100 else 0
    elif match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = int(match[1]), _MONTHS.get(match[2], 0), int(match[3])
    elif match := _MONTH_DAY_YEAR.fullmatch(text):
        day, month, year = int(match[2]), _MONTHS.get(match[1], 0), int(match[3])
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- help ------------------------------------------------------------------------------------------

_GRAMMAR: dict[str, tuple[tuple[str, str], ...]] = {
    "fr": (
        ("#statut en cours", "la réclamation passe en cours de traitement (#statut rouvert : la rouvrir)"),
        ("#gravité haute", "fixe la gravité : basse, moyenne, haute ou critique"),
        ("#catégorie facturation", "fixe la catégorie de la réclamation"),
        ("#assigner bob@example.com", "confie la réclamation à un autre gestionnaire"),
        ("#délai JJ/MM/AAAA", "nouvelle date de réponse, annoncée au client comme un engagement"),
        ("#note …", "note interne à l'historique, jusqu'à la première ligne vide"),
        ("#clore fondée", "clôt la réclamation : fondée, partiellement fondée ou non fondée"),
        ("#réponse …", "tout le texte qui suit part au client comme réponse ; à écrire en dernier"),
        ("#complexité moyenne", "fixe la complexité : simple, moyenne ou complexe"),
        ("#impact fort", "qui d'autre est touché : faible, moyen ou fort"),
        ("#portée systémique", "isolée, ou systémique (la même cause touche d'autres réclamations)"),
        ("#lié REC-2026-000012", "lie une réclamation de même cause (le lien vaut dans les deux sens)"),
        ("#souhait …", "la solution que le client souhaite, jusqu'à la première ligne vide"),
        ("#cause …", "une cause identifiée, jusqu'à la première ligne vide"),
        ("#compensation avoir 50 EUR", "remboursement, avoir, prestation, excuses ou autre ; montant facultatif"),
        (
            "#informer …",
            "tout le texte qui suit part au client comme lettre d'étape, sans répondre ; à écrire en dernier",
        ),
        ("#action corrective … @paul@example.com 15/01/2027", "crée une action (curative, corrective, préventive)"),
        ("#action 2 faite", "fait avancer l'action 2 : faite, efficace, ou abandonnée suivie de la raison"),
        ("#aide", "renvoie cette aide"),
    ),
    "en": (
        ("#status in_progress", "the complaint is being handled (#status reopened: reopen it)"),
        ("#severity high", "sets the severity: low, medium, high or critical"),
        ("#category billing", "sets the complaint's category"),
        ("#assign bob@example.com", "hands the complaint over to another handler"),
        ("#deadline YYYY-MM-DD", "a new answer date, given to the customer as a commitment"),
        ("#note …", "an internal note in the history, up to the first blank line"),
        ("#close founded", "closes the complaint: founded, partly_founded or unfounded"),
        ("#reply …", "all the text that follows goes to the customer as the answer; write it last"),
        ("#complexity medium", "sets the complexity: simple, medium or complex"),
        ("#impact high", "who else is affected: low, medium or high"),
        ("#scope systemic", "isolated, or systemic (the same cause is behind other complaints)"),
        ("#related REC-2026-000012", "links a complaint with the same cause (both ways)"),
        ("#wish …", "the solution the customer wishes, up to the first blank line"),
        ("#cause …", "a cause found, up to the first blank line"),
        ("#compensation credit 50 EUR", "refund, credit, service, apology or other; the amount is optional"),
        ("#inform …", "all the text that follows goes to the customer as interim news, not the answer; write it last"),
        ("#action corrective … @paul@example.com 2027-01-15", "creates an action (curative, corrective, preventive)"),
        ("#action 2 done", "moves action 2 on: done, verified, or abandoned followed by the reason"),
        ("#help", "sends this help"),
    ),
}


def grammar(language: str) -> tuple[tuple[str, str], ...]:
    """(example line, meaning) pairs for the help and error letters; English for an unknown language."""
    return _GRAMMAR.get(str(language).lower().split("-")[0].split("_")[0], _GRAMMAR["en"])
