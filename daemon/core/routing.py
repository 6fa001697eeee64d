"""Routing: which one designated handler gets a new complaint, and why.

This module's sole purpose in life is to pick, for a complaint just registered, the one handler who
will answer it (docs/design.md, "Who uses it, and how": "every complaint routed to exactly one designated
handler"), and to say which rule chose them, so the handler's mail and the history can explain it.
It reads no config file and no clock: the handlers come in as values, in config order.

Theory of operation
-------------------
Handlers are tried in config order; the first that matches wins, else the default handler takes it.
A handler matches when one of its own rules does, tried in this order (the most deliberate first):

1. category: the complaint's category (found at intake by `categorize`, or set later by a handler's
   `#catégorie`) equals one of the handler's categories, compared folded (see `fold`);
2. sender domain: the sender's address is in one of the handler's domains or a subdomain of it
   (`bigclient.fr` takes `achats@bigclient.fr` and `x@paris.bigclient.fr`, not `x@notbigclient.fr`);
3. keyword in the subject, then keyword in the body: a keyword or phrase appears as whole words.

Keywords are compared on folded text (`fold`: accents, case and compatibility forms removed), as
whole words: "facture" matches "FACTURE", "Facturé" and "la facture," but not "factures" or
"facturation"; list the forms you mean ("factures", "facturation"). Whole words because a bare
substring would send "ordre" to whoever watches "or". The words of a phrase may be separated by any
run of white space ("bon de commande" matches "bon de\\ncommande"). Folding means a keyword cannot
tell "facture" from "facturé": in a complaint, both mean the invoice.

Config order is the only priority between handlers, so the admin reads the routing top to bottom.

A complaint's category is found the same way before it is routed (`categorize`): each
`[categories.<name>]` in config order, its keywords in the subject, then in the body, as whole
folded words; the first category that matches is the complaint's, else it has none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

__all__ = ["CategoryMatch", "Handler", "Route", "RouteRule", "categorize", "fold", "keywords_of", "route"]

# Ligatures that Unicode does not decompose but a French reader takes for two letters.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """`text` without case, accents or compatibility forms: "Facturé" and "FACTURE" give "facture".

    Casefold, decompose (NFKD: "ﬁ" becomes "fi", "²" becomes "2"), drop the combining marks, and
    spell out œ and æ ("cœur" gives "coeur"). Used wherever a person's word is compared with
    configured words, so that accents and capitals never decide.
    """
    # Unicode's compatibility caseless match (§3.13, D146): casefold and NFKD twice, since each
    # can undo the other ("℠" decomposes to "SM", which must then be casefolded).
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text.casefold()).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_LIGATURES)


class RouteRule(StrEnum):
    """Which rule chose the handler: stable identifiers the letters phrase in their language."""

    CATEGORY = "category"
    SENDER_DOMAIN = "sender_domain"
    KEYWORD_SUBJECT = "keyword_subject"
    KEYWORD_BODY = "keyword_body"
    DEFAULT = "default"


def keywords_of(owner: str, values: object) -> tuple[str, ...]:
    """Keywords as matching reads them: white space runs made one space, none empty (an empty one
    would match every mail). `owner` names whose keywords they are in the error."""
    return _strings(owner, "keywords", values)


def _strings(owner: str, what: str, values: object) -> tuple[str, ...]:
    # The config gives lists; a frozen, hashable value needs a tuple. A bare string would be read
    # as a sequence of letters, and an empty keyword would match everywhere: both are refused.
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise ValueError(f"{owner}: {what} must be a list of strings, not {values!r}")
    cleaned = tuple(" ".join(str(v).split()) if isinstance(v, str) else v for v in values)
    for value in cleaned:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{owner}: {what} must be non-empty strings, not {value!r}")
    return cleaned


def _domain(owner: str, value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    if not domain or "@" in domain or any(c.isspace() for c in domain) or domain.startswith("."):
        raise ValueError(f"handler {owner}: {value!r} is not a domain name (write 'bigclient.fr')")
    return domain


@dataclass(frozen=True)
class Handler:
    """A person who answers complaints, with the rules that route complaints to them.

    `email` is stored lower-cased and must contain "@"; `sender_domains` are lower-cased too.
    """

    name: str
    email: str
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    sender_domains: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ValueError(f"handler name must be a string, not {self.name!r}")
        email = self.email.strip().lower() if isinstance(self.email, str) else ""
        local, at, domain = email.rpartition("@")
        if not at or not local or not domain or any(c.isspace() for c in email):
            raise ValueError(f"handler {self.name!r}: {self.email!r} is not an email address")
        # Frozen: normalised values are set the way h11's events set theirs.
        object.__setattr__(self, "email", email)
        object.__setattr__(self, "name", " ".join(self.name.split()))
        owner = f"handler {email}"
        object.__setattr__(self, "categories", _strings(owner, "categories", self.categories))
        object.__setattr__(self, "keywords", _strings(owner, "keywords", self.keywords))
        domains = _strings(owner, "sender_domains", self.sender_domains)
        object.__setattr__(self, "sender_domains", tuple(_domain(email, d) for d in domains))


@dataclass(frozen=True)
class Route:
    """The routing decision: the handler, the rule that chose them and what it matched.

    `reason` is one English line for logs and the history ('keyword "facture" in the subject',
    'sender domain bigclient.fr', 'category facturation', 'default handler'); the letters phrase
    `rule` and `matched` in their own language instead.
    """

    handler: Handler
    reason: str
    rule: RouteRule = RouteRule.DEFAULT
    matched: str = ""


@lru_cache(maxsize=1024)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Whole words on folded text: no word character may touch the keyword on either side.
    words = (re.escape(word) for word in fold(keyword).split())
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _sender_domain(sender_email: str) -> str:
    return sender_email.strip().strip("<>").rpartition("@")[2].strip().lower().rstrip(".")


def _in_domain(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def _match(handler: Handler, category: str | None, domain: str, subject: str, body: str) -> Route | None:
    if category is not None:
        for wanted in handler.categories:
            if fold(wanted) == fold(category.strip()):
                return Route(handler, f"category {wanted}", RouteRule.CATEGORY, wanted)
    if domain:
        for parent in handler.sender_domains:
            if _in_domain(domain, parent):
                return Route(handler, f"sender domain {parent}", RouteRule.SENDER_DOMAIN, parent)
    for where, text, rule in (
        ("subject", subject, RouteRule.KEYWORD_SUBJECT),
        ("body", body, RouteRule.KEYWORD_BODY),
    ):
        for keyword in handler.keywords:
            if _keyword_pattern(keyword).search(text):
                return Route(handler, f'keyword "{keyword}" in the {where}', rule, keyword)
    return None


def route(
    handlers: tuple[Handler, ...],
    default: Handler,
    *,
    subject: str,
    body: str,
    sender_email: str,
    category: str | None = None,
) -> Route:
    """The handler for a complaint: the first of `handlers` (config order) whose rules match, else `default`.

    See the module docstring for the rules and their order. Never fails: a complaint always has
    exactly one handler.
    """
    domain = _sender_domain(sender_email)
    folded_subject, folded_body = fold(subject), fold(body)
    for handler in handlers:
        found = _match(handler, category, domain, folded_subject, folded_body)
        if found is not None:
            return found
    return Route(default, "default handler", RouteRule.DEFAULT, "")


@dataclass(frozen=True)
class CategoryMatch:
    """The category a new complaint was given at intake, and the keyword (and where) that decided it."""

    name: str
    keyword: str
    where: str  # "subject" or "body"

    @property
    def reason(self) -> str:
        """One English line for the history: "category facturation (keyword 'facture')"."""
        return f"category {self.name} (keyword '{self.keyword}')"


def categorize(categories: Iterable[tuple[str, tuple[str, ...]]], *, subject: str, body: str) -> CategoryMatch | None:
    """The first of `categories` ((name, keywords), config order) with a keyword in the subject, then
    in the body, matched as a handler's keywords are (whole folded words); None when none matches."""
    folded_subject, folded_body = fold(subject), fold(body)
    for name, keywords in categories:
        for where, text in (("subject", folded_subject), ("body", folded_body)):
            for keyword in keywords:
                if _keyword_pattern(keyword).search(text):
                    return CategoryMatch(name, keyword, where)
    return None
