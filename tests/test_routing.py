"""Routing: the one designated handler for a complaint, the rule that chose them, and folding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.core.routing import Handler, Route, RouteRule, fold, route

BILLING = Handler(
    name="Alice Martin",
    email="Alice.Martin@Example.COM",
    categories=("facturation",),
    keywords=("facture", "bon de commande"),
)
BIG_CLIENT = Handler(name="Bob", email="bob@example.com", sender_domains=("BigClient.fr",))
DELIVERY = Handler(name="Chloé", email="chloe@example.com", categories=("Livraison",), keywords=("colis",))
DEFAULT = Handler(name="Accueil", email="reclamations@example.com")
HANDLERS = (BILLING, BIG_CLIENT, DELIVERY)


def routed(subject: str = "", body: str = "", sender: str = "marie@example.org", category: str | None = None) -> Route:
    return route(HANDLERS, DEFAULT, subject=subject, body=body, sender_email=sender, category=category)


# --- fold ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Facturé", "facture"),
        ("FACTURE", "facture"),
        ("Gravité HAUTE", "gravite haute"),
        ("Straße", "strasse"),
        ("cœur Æsop", "coeur aesop"),
        ("ﬁchier", "fichier"),
        ("İstanbul", "istanbul"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# --- one table: (subject, body, sender, category) -> (handler, rule, reason) -----------------------

CASES = [
    # Keywords: whole words, on folded text.
    (
        "Facture erronée",
        "",
        "x@example.org",
        None,
        BILLING,
        RouteRule.KEYWORD_SUBJECT,
        'keyword "facture" in the subject',
    ),
    ("FACTURE", "", "x@example.org", None, BILLING, RouteRule.KEYWORD_SUBJECT, 'keyword "facture" in the subject'),
    (
        "Montant facturé deux fois",
        "",
        "x@example.org",
        None,
        BILLING,
        RouteRule.KEYWORD_SUBJECT,
        'keyword "facture" in the subject',
    ),
    (
        "Problème",
        "Ma facture, reçue hier.",
        "x@example.org",
        None,
        BILLING,
        RouteRule.KEYWORD_BODY,
        'keyword "facture" in the body',
    ),
    (
        "Problème",
        "Votre bon de\ncommande n°3",
        "x@example.org",
        None,
        BILLING,
        RouteRule.KEYWORD_BODY,
        'keyword "bon de commande" in the body',
    ),
    ("Mes factures", "", "x@example.org", None, DEFAULT, RouteRule.DEFAULT, "default handler"),
    ("Facturation", "", "x@example.org", None, DEFAULT, RouteRule.DEFAULT, "default handler"),
    ("Colis abîmé", "", "x@example.org", None, DELIVERY, RouteRule.KEYWORD_SUBJECT, 'keyword "colis" in the subject'),
    # Sender domains: the domain itself or a subdomain, never a look-alike.
    ("Bonjour", "", "achats@bigclient.fr", None, BIG_CLIENT, RouteRule.SENDER_DOMAIN, "sender domain bigclient.fr"),
    (
        "Bonjour",
        "",
        "Achats@Paris.BigClient.FR",
        None,
        BIG_CLIENT,
        RouteRule.SENDER_DOMAIN,
        "sender domain bigclient.fr",
    ),
    ("Bonjour", "", "x@notbigclient.fr", None, DEFAULT, RouteRule.DEFAULT, "default handler"),
    ("Bonjour", "", "x@bigclient.fr.evil.example", None, DEFAULT, RouteRule.DEFAULT, "default handler"),
    # Categories: folded equality.
    ("Bonjour", "", "x@example.org", "LIVRAISON", DELIVERY, RouteRule.CATEGORY, "category Livraison"),
    ("Bonjour", "", "x@example.org", "Facturation", BILLING, RouteRule.CATEGORY, "category facturation"),
    ("Bonjour", "", "x@example.org", "inconnue", DEFAULT, RouteRule.DEFAULT, "default handler"),
    # Config order wins between handlers: the big client's invoice goes to billing, listed first.
    (
        "Facture",
        "",
        "achats@bigclient.fr",
        None,
        BILLING,
        RouteRule.KEYWORD_SUBJECT,
        'keyword "facture" in the subject',
    ),
    # Within one handler, the category wins over a keyword.
    ("Facture", "", "x@example.org", "facturation", BILLING, RouteRule.CATEGORY, "category facturation"),
    # A colis complaint from the big client: Bob is listed before Chloé.
    ("Colis", "", "achats@bigclient.fr", None, BIG_CLIENT, RouteRule.SENDER_DOMAIN, "sender domain bigclient.fr"),
    ("", "", "", None, DEFAULT, RouteRule.DEFAULT, "default handler"),
]


@pytest.mark.parametrize(("subject", "body", "sender", "category", "handler", "rule", "reason"), CASES)
def test_route(
    subject: str, body: str, sender: str, category: str | None, handler: Handler, rule: RouteRule, reason: str
) -> None:
    decision = routed(subject, body, sender, category)
    assert decision.handler == handler
    assert decision.rule is rule
    assert decision.reason == reason


def test_route_says_what_matched() -> None:
    assert routed("Votre facture").matched == "facture"
    assert routed(sender="a@bigclient.fr").matched == "bigclient.fr"
    assert routed().matched == ""


def test_no_handlers_means_the_default() -> None:
    decision = route((), DEFAULT, subject="Facture", body="", sender_email="x@example.org")
    assert decision == Route(DEFAULT, "default handler", RouteRule.DEFAULT, "")


@given(subject=st.text(), body=st.text(), sender=st.text(), category=st.none() | st.text())
def test_route_always_gives_one_configured_handler(subject: str, body: str, sender: str, category: str | None) -> None:
    decision = routed(subject, body, sender, category)
    assert decision.handler in (*HANDLERS, DEFAULT)
    assert decision.reason


# --- Handler -------------------------------------------------------------------------------------


def test_handler_normalises() -> None:
    assert BILLING.email == "alice.martin@example.com"
    assert BIG_CLIENT.sender_domains == ("bigclient.fr",)
    handler = Handler(name="  Bob  Dupont ", email="bob@example.com", keywords=["colis", "  bon  de commande "])  # type: ignore[arg-type]
    assert handler.name == "Bob Dupont"
    assert handler.keywords == ("colis", "bon de commande")
    hash(handler)


@pytest.mark.parametrize("email", ["", "bob", "bob@", "@example.com", "bob @example.com"])
def test_handler_needs_an_address(email: str) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        Handler(name="Bob", email=email)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("keywords", ("",), "non-empty"),
        ("keywords", ("  ",), "non-empty"),
        ("keywords", "facture", "list of strings"),
        ("categories", (3,), "non-empty strings"),
        ("sender_domains", ("@bigclient.fr",), "not a domain"),
        ("sender_domains", (".bigclient.fr",), "not a domain"),
    ],
)
def test_handler_refuses_bad_rules(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Handler(name="Bob", email="bob@example.com", **{field: value})  # type: ignore[arg-type]
