"""Hostile input, everywhere: every form of the site, as the kind of person who uses it, is sent
random text, awkward unicode, 10,000 characters, control characters, and known XSS, template and
SQL-injection payloads. For every submission:

- never a 500;
- nothing sent comes back unescaped (no tag, event-handler attribute, ``javascript:`` link or inline
  script that was not already part of the site's own pages);
- a redirect only ever leads back to this site;
- accepted text is stored byte for byte as sent, after the form's documented normalisation
  (``NORMALISED`` below names each rule); a password is never stored as sent;
- refused text is explained in the GOV.UK error summary, and nothing of it is stored;
- 10,000 characters are refused with the form's own "... or fewer" message;
- a value the page did not offer (a tampered radio, button or hidden field) is never stored.

Forms are found, not listed: for each kind of person, every page of ``PAGES`` (and every page the
app adds under the prefixes of ``DISCOVERED``) is opened and each of its POST forms parsed, so a
new page brings its forms with it. A form with nothing to fill in (a button such as "Sign out" or
"Open consultation") is left alone. Each example builds its own small world (people, consultations,
ideas), so examples never depend on each other; each form gets a few fixed examples (every kind of
trouble at once in each text box, 10,000 characters, a tampered choice) besides the random ones.

Further down: stored hostile statements, questions, names and ideas are shown as text (and a
right-to-left override in them turns no other words around) on every page that shows them.
"""

from __future__ import annotations

import html as html_module
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import count as counter
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import example as hypothesis_example
from hypothesis import strategies as st
from sqlalchemy import Integer, String, Text, func, select
from werkzeug.datastructures import MultiDict

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Idea,
    IdeaStage,
    ModerationMode,
    Participant,
    ParticipantRole,
    StatementOrigin,
    User,
    Vote,
    VoteEvent,
)
from deliberate.services.statements import write_statement
from tests.helpers import html_of, sign_in, submit_form

PASSWORD = "correct horse battery"
EXAMPLES_PER_FORM = 12  # random ones; the explicit ones come on top
LONG = 10_000

# -- the hostile text -----------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "' autofocus onfocus='alert(1)",
    "javascript:alert(1)",
    " JaVaScRiPt:alert(document.cookie)",
    '<a href="javascript:alert(1)">click</a>',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--",
    "]]>",
    "{{7*7}}",
    "{{ config }}",
    "{% for x in range(9) %}x{% endfor %}",
    "${7*7}",
    "#{7*7}",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)",
    "Robert'); DROP TABLE statements;--",
    "%00",
    "%s%s%s%n",
    "\\x00\\",
    "&lt;b&gt;not bold&lt;/b&gt;",
    "&amp;&#x3C;script&#x3E;",
    '=HYPERLINK("http://evil.example")',
    "NULL",
    "None",
]
SPECIAL = [
    "\u202e",  # right-to-left override
    "\u202d",
    "\u2066",
    "\u200b",  # zero-width space
    "\u200d",
    "\ufeff",  # zero-width no-break space (byte-order mark)
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "Z\u0336\u0335\u0334",
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\r",
    "\n",
    "\r\n",
    "\t",
    " ",
    "   ",
    "\u00a0",
    "\u3000",
    "🙂",
    "👩🏽‍⚕️",
    "🏳️‍🌈",
    "🇬🇧",
    "ﷺ",
    "𒐫",
    "İ",
    "ß",
    "ﬀ",
    "مرحبا",
    "שלום",
    "日本語",
    "²",
    "٣",
]
PRINTABLE = [p for p in PAYLOADS + SPECIAL if p.isprintable() and p.strip() == p and p]


WORDS = ["Shorter waits", "more nurses", "GP", "appointments", "please", "A&E", "x"]
# Every kind of trouble at once, short enough for a name or a title, with words in it: what is
# accepted shows how it was stored.
SINK = (
    "\t<script>alert(1)</script>\x00\u202eRTL\u202c\u200b\ufeff 🙂 e\u0301 ' OR 1=1 -- {{7*7}}\x07 "
)
SINK_TOO = (
    "\"><img src=x onerror=alert(1)>\r\nRobert'); DROP TABLE users; --\u2028"
    "javascript:alert(1)\x1b[31m"
)
TAMPERED = "1\x00<script>alert(1)</script>' OR 1=1 --"
HOSTILE_EMAIL = " o'reilly.{{7*7}}.δοκιμή@{domain} "


def _pieces() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(WORDS),
        st.sampled_from(PAYLOADS),
        st.sampled_from(SPECIAL),
        st.text(max_size=20),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    )


def _long_text(piece: str) -> str:
    core = "x" + piece
    return (core * (LONG // len(core) + 1))[:LONG]


HOSTILE_TEXT = st.one_of(
    st.lists(_pieces(), min_size=1, max_size=6).map(" ".join),
    st.lists(_pieces(), max_size=4).map("".join),
    st.sampled_from(PRINTABLE).map(_long_text),
)
# Local parts an email validator lets through, with quotes, braces and letters of other scripts.
EMAIL_LOCAL = st.lists(
    st.sampled_from(["o'reilly", "x'OR'1'='1", "{{7*7}}", "a+b", "=cmd|", "δοκιμή", "名前", "a.b"]),
    min_size=1,
    max_size=3,
).map(".".join)


def hostile_for(kind: str, domain: str) -> st.SearchStrategy[str]:
    if kind != "email":
        return HOSTILE_TEXT
    spaces = st.sampled_from(["", " ", "\t", "\u00a0"])
    address = st.tuples(spaces, EMAIL_LOCAL, st.sampled_from([domain, domain.upper()]), spaces)
    return st.one_of(HOSTILE_TEXT, address.map(lambda p: f"{p[0]}{p[1]}@{p[2]}{p[3]}"))


# -- how each form stores what it accepted --------------------------------------------------------
#
# Found by reading the forms and services. Every rule starts from what the form received: what
# was sent, without NUL (deliberate/form_data.py removes it from every field before any form reads
# it).


def received(text: str) -> str:
    return text.replace("\x00", "")


def _name(text: str) -> str:
    """services/accounts.register_user: the display name stripped."""
    return text.strip()


def _email(text: str) -> str:
    """The forms' strip filter, then services/accounts.normalise_email: stripped, lower case."""
    return text.strip().lower()


def _statement(text: str) -> str:
    """services/statements.clean_statement_text: CRLF -> LF, NUL removed, surrounding white
    space (Python's definition) stripped."""
    return text.replace("\r\n", "\n").replace("\x00", "").strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _idea_text(text: str) -> str:
    """services/ideas.clean_text: CRLF -> LF, then every C0 control but tab and line feed removed
    (a lone CR too), then stripped."""
    return _CONTROL.sub("", text.replace("\r\n", "\n")).strip()


def _question(text: str) -> str:
    """services/consultations._clean_title: every run of white space becomes one space."""
    return " ".join(text.split())


def _context(text: str) -> str:
    """services/consultations._clean_context: CRLF -> LF, stripped."""
    return text.replace("\r\n", "\n").strip()


def _service_areas(text: str) -> str:
    """services/consultations.clean_service_areas: one area per line (any of Python's line
    breaks), white space in each collapsed, blank lines and repeats (ignoring case) dropped."""
    areas: list[str] = []
    for line in text.splitlines():
        area = " ".join(line.split())
        if area and area.casefold() not in {a.casefold() for a in areas}:
            areas.append(area)
    return "\n".join(areas)


# Fields whose own limit is above the 10,000 characters sent (a document, not a comment).
LONGER_ALLOWED = {("admin.edit_moderation_policy", "text"): 20_000}
NEVER_STORED = "never stored as sent"  # a password: only its hash is kept
NOT_TEXT = "not kept as text"  # a date box: the date is kept, not what was typed

NORMALISED: dict[tuple[str, str], Callable[[str], str] | str] = {
    ("auth.register", "display_name"): _name,
    ("auth.register", "email"): _email,
    ("auth.request_staff_verification", "work_email"): _email,
    ("consultations.comment", "text"): _statement,
    ("manage.add_seed_statement", "text"): _statement,
    ("ideas.new", "title"): _idea_text,
    ("ideas.new", "problem"): _idea_text,
    ("ideas.new", "proposal"): _idea_text,
    ("ideas.new", "evidence"): _idea_text,
    ("ideas.move", "reason"): _idea_text,
    ("ideas.learning", "learning"): _idea_text,
    ("manage.new_consultation", "title"): _question,
    ("manage.new_consultation", "context"): _context,
    ("manage.new_consultation", "service_areas"): _service_areas,
    ("manage.edit_consultation", "title"): _question,
    ("manage.edit_consultation", "context"): _context,
    ("manage.edit_consultation", "service_areas"): _service_areas,
    # services/api_tokens.clean_name: every run of white space becomes one space, as a question.
    ("auth.create_api_token", "name"): _question,
}


def _plainly(text: str) -> frozenset[str]:
    """What a form with no rule of its own here may store: the text as sent, or with line breaks
    made LF, surrounding white space stripped, white space collapsed, letters in lower case."""
    lf = text.replace("\r\n", "\n")
    variants = {text, lf, lf.strip(), " ".join(text.split())}
    return frozenset(variants | {v.lower() for v in variants})


def _default_rule(element: Element) -> Callable[[str], str | frozenset[str]] | str:
    """A field of a form added since, with no entry in NORMALISED: a password is never stored as
    sent; other text, if it is stored, is stored plainly (an added form's test fails if its text is
    cut, escaped or otherwise changed: give it its rule above)."""
    if element.type == "password":
        return NEVER_STORED
    if element.structured:
        return NOT_TEXT
    return _plainly


# -- the pages, per kind of person ----------------------------------------------------------------

KINDS = ("anonymous", "citizen", "staff", "team", "moderator", "admin")
PAGES = {
    "anonymous": [
        "/consultations/{open}",
        "/consultations/{open}/about-you",
    ],
    "citizen": [
        "/consultations/{open}",
        "/consultations/{open}/about-you",
    ],
    "staff": ["/missions/{slug}/ideas/new"],
    "team": [
        "/manage/missions/{slug}/consultations/new",
        "/manage/consultations/{draft}/edit",
        "/manage/consultations/{open}/edit",
        "/manage/consultations/{draft}",
        "/manage/consultations/{premoderated}/moderation",
        "/ideas/{idea}",
        "/ideas/{trialled_idea}",
    ],
    "moderator": ["/manage/consultations/{premoderated}/moderation"],
    "admin": [],
}
# Every GET page the app has under these prefixes is opened too (URL arguments from the world).
DISCOVERED = {
    "anonymous": lambda rule: (
        not rule.rule.startswith(("/manage", "/admin", "/account", "/static"))
    ),
    "citizen": lambda rule: rule.rule.startswith("/account"),
    "admin": lambda rule: rule.rule.startswith("/admin") or rule.endpoint.startswith("admin."),
}
SKIPPED_PAGES = ("/healthz", "/readyz")  # no forms: plain answers for load balancers


@dataclass
class World:
    """One example's people and things. ``ids`` fill the page patterns; ``marks`` are the highest
    ids of each table before it was built."""

    emails: dict[str, str]
    ids: dict[str, object]
    marks: dict[str, int]


_WORLD_NUMBER = counter(1)


def build_world(missions, create_user, kind: str) -> World:
    """The person of this kind (and a verified member of staff who proposed the ideas), an open
    consultation, a draft, a pre-moderated one with a comment waiting, and two ideas."""
    n = next(_WORLD_NUMBER)
    marks = high_water_marks()
    mission = missions["nhs"]
    roles = {
        "staff": {"staff_email": f"staff-{n}@nhs.net"},
        "team": {"team": (mission,)},
        "moderator": {"moderator": True},
        "admin": {"admin": True},
        "citizen": {},
    }
    emails, users = {}, {}
    for who in sorted({"staff", kind} - {"anonymous"}):
        emails[who] = f"{who}-{n}@example.org"
        users[who] = create_user(emails[who], PASSWORD, f"{who.title()} {n}", **roles[who])

    def consultation(title: str, *, opened: bool, mode=ModerationMode.POST) -> Consultation:
        made = Consultation(
            mission=mission,
            title=f"{title} {n}?",
            context="Why we ask.",
            moderation_mode=mode,
            allow_anonymous=True,
            service_areas="A&E\nGP surgery",
        )
        db.session.add(made)
        db.session.flush()
        write_statement(made, f"Seed one of world {n}.", origin=StatementOrigin.SEED)
        if opened:
            made.open()
        return made

    open_ = consultation("Open question", opened=True)
    seed = write_statement(open_, f"Seed two of world {n}.", origin=StatementOrigin.SEED)
    draft = consultation("Draft question", opened=False)
    premoderated = consultation("Moderated question", opened=True, mode=ModerationMode.PRE)
    author = Participant(
        consultation_id=premoderated.id, role=ParticipantRole.CITIZEN, anonymous_token_hash=f"{n}"
    )
    db.session.add(author)
    db.session.flush()
    pending = write_statement(
        premoderated, f"A comment waiting {n}.", origin=StatementOrigin.PARTICIPANT, author=author
    )
    ideas = []
    for title in ("An idea", "A trialled idea"):
        idea = Idea(
            mission=mission,
            author=users["staff"],
            title=f"{title} {n}",
            problem="A problem.",
            proposal="A proposal.",
            evidence="Some evidence.",
        )
        db.session.add(idea)
        ideas.append(idea)
    ideas[1].move_to(IdeaStage.UNDER_REVIEW, "Worth a look.", by=None)
    ideas[1].move_to(IdeaStage.BEING_TRIALLED, "Worth a try.", by=None)
    db.session.commit()
    ids = {
        "slug": mission.slug,
        "open": open_.id,
        "seed": seed.id,
        "draft": draft.id,
        "premoderated": premoderated.id,
        "pending": pending.id,
        "idea": ideas[0].id,
        "trialled_idea": ideas[1].id,
        "user": users.get(kind, users["staff"]).id,
    }
    return World(emails=emails, ids=ids, marks=marks)


# URL arguments of discovered routes, by name, and what they are in the world.
ROUTE_ARGUMENTS = {
    "slug": "slug",
    "consultation_id": "open",
    "idea_id": "idea",
    "statement_id": "seed",
    "user_id": "user",  # the person signed in (the staff member, when nobody is)
}


def page_patterns(app, kind: str) -> list[str]:
    patterns = list(PAGES[kind])
    wanted = DISCOVERED.get(kind)
    if wanted is None:
        return patterns
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not wanted(rule) or rule.rule in SKIPPED_PAGES:
            continue
        if not set(rule.arguments) <= set(ROUTE_ARGUMENTS):
            continue  # a token, a run or a held comment: nothing a world can name
        pattern = rule.rule
        for argument in rule.arguments:
            pattern = re.sub(rf"<(\w+:)?{argument}>", f"{{{ROUTE_ARGUMENTS[argument]}}}", pattern)
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


# -- reading forms as a browser does --------------------------------------------------------------

STRUCTURED_TYPES = ("number", "date", "time", "datetime-local", "month", "week", "range", "color")


@dataclass
class Element:
    """One control of a form: a text box, or a group (radios, a select, buttons of one name)."""

    tag: str
    name: str
    type: str = "text"
    value: str = ""
    structured: bool = False  # a number or a date: typed, but not free text
    options: list[str] = field(default_factory=list)
    checked: bool = False

    @property
    def is_text(self) -> bool:
        return self.tag == "textarea" or self.type in TEXT_TYPES

    @property
    def is_choice(self) -> bool:
        return self.type in ("radio", "select", "button") or (
            self.type == "hidden" and self.name != "csrf_token"
        )


TEXT_TYPES = ("text", "email", "password", "search", "url", "tel", *STRUCTURED_TYPES)


@dataclass
class Form:
    action: str
    elements: list[Element]

    def key(self, app) -> tuple[str, tuple[str, ...]]:
        return endpoint_of(app, self.action), tuple(e.name for e in self.elements)


class FormReader(HTMLParser):
    """The POST forms of a page, with what a browser would send from each control."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: Element | None = None
        self._select: Element | None = None
        self._groups: dict[str, Element] = {}

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(urljoin(self.page_url, a.get("action") or self.page_url), [])
                self._groups = {}
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
            return
        if self._form is None or not a.get("name"):
            return
        name, kind = a["name"], a.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "textarea":
            self._textarea = Element("textarea", name, "textarea")
            self._form.elements.append(self._textarea)
        elif tag == "select":
            self._select = Element("select", name, "select")
            self._form.elements.append(self._select)
        elif kind in ("radio", "submit") and tag in ("input", "button"):
            group = self._groups.get(name)
            if group is None:
                group = Element(tag, name, "radio" if kind == "radio" else "button")
                self._groups[name] = group
                self._form.elements.append(group)
            group.options.append(a.get("value", ""))
            if "checked" in a:
                group.value, group.checked = a.get("value", ""), True
        elif tag == "input" and kind not in ("file", "image", "reset", "button"):
            structured = a.get("inputmode") == "numeric" or kind in STRUCTURED_TYPES
            element = Element("input", name, kind, a.get("value", ""), structured)
            element.checked = "checked" in a
            self._form.elements.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops one line break straight after <textarea>.
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_on(html: str, page_url: str) -> list[Form]:
    reader = FormReader(page_url)
    reader.feed(html)
    return reader.forms


def endpoint_of(app, url: str) -> str:
    path = urlsplit(url).path
    adapter = app.url_map.bind("deliberate.test")
    return adapter.match(path, method="POST")[0]


# -- what a response must never show --------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


def _overrides_direction(text: str) -> bool:
    """The text opens a direction embedding, override or isolate that it does not close."""
    embeddings = sum(map(text.count, "\u202a\u202b\u202d\u202e")) > text.count("\u202c")
    return embeddings or sum(map(text.count, "\u2066\u2067\u2068")) > text.count("\u2069")


# Elements whose text is a paragraph of its own (or not shown in the page's flow at all).
OWN_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "li", "dd", "dt", "td", "th", "blockquote", "div"}
OWN_PARAGRAPH |= {"legend", "label", "caption", "summary", "pre", "title", "textarea", "option"}
VOID = {"br", "img", "input", "link", "meta", "hr", "col", "source", "wbr", "area", "base"}


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.inline_scripts: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"event handler attribute {name}={value!r} on <{tag}>")
            cleaned = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.lower() in URL_ATTRIBUTES and cleaned.startswith(("javascript:", "vbscript:")):
                self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag == "script" and not dict(attrs).get("src"):
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
            self._script = None


@dataclass
class _Node:
    tag: str
    isolates: bool
    parent: _Node | None
    children: list = field(default_factory=list)  # nodes and strings

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _BidiReader(HTMLParser):
    """The page as a tree, enough to see where a text with a direction override ends up."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self._node = _Node("#root", True, None)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        hidden = "govuk-visually-hidden" in (a.get("class") or "")  # read out, never laid out
        node = _Node(tag, tag == "bdi" or "dir" in a or hidden, self._node)
        self._node.children.append(node)
        if tag not in VOID:
            self._node = node

    def handle_endtag(self, tag):
        node = self._node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self._node = node.parent

    def handle_data(self, data):
        self._node.children.append(data)

    def leaks(self) -> list[str]:
        found = []

        def visit(node: _Node) -> None:
            for child in node.children:
                if isinstance(child, _Node):
                    visit(child)
                elif _overrides_direction(child) and not _contained(node, child):
                    found.append(f"<{node.tag}> {child.strip()[:50]!r}")

        visit(self.root)
        return found


def _contained(node: _Node, text: str) -> bool:
    """A direction override in ``text`` turns no other words around: the text sits in an element
    that isolates it, or ends its paragraph."""
    while node is not None:
        if node.isolates:
            return True
        if node.tag in OWN_PARAGRAPH:
            return node.text().rstrip().endswith(text.rstrip())
        node = node.parent
    return True


def bidi_leaks(html: str) -> list[str]:
    reader = _BidiReader()
    reader.feed(html)
    return reader.leaks()


def inline_scripts(html: str) -> set[str]:
    parser = _Markup()
    parser.feed(html)
    return set(parser.inline_scripts)


TAG_LIKE = re.compile(r"<[A-Za-z!/?][^<>]*>?")


@dataclass(frozen=True)
class Known:
    """The site's own markup, as its pages show it before anything hostile is sent."""

    html: str
    scripts: frozenset[str]


def assert_escaped(html: str, sent: list[str], known: Known, where) -> None:
    """Nothing sent comes back as markup: compared with the site's own pages, no new tag from the
    text, no event-handler attribute, no script link, no new inline script."""
    parser = _Markup()
    parser.feed(html)
    assert not parser.problems, f"{where}: {parser.problems}"
    new_scripts = set(parser.inline_scripts) - known.scripts
    assert not new_scripts, f"{where}: an inline script that is not the site's own: {new_scripts}"
    for text in sent:
        for fragment in set(TAG_LIKE.findall(text)):
            if fragment in html and fragment not in known.html:
                raise AssertionError(f"{where}: {fragment!r} came back unescaped")


# -- what the database holds ----------------------------------------------------------------------


def _text_tables():
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if columns:
            yield table, list(table.primary_key.columns), columns


def high_water_marks() -> dict[str, int]:
    """The highest id of each table now: rows of earlier examples need not be read again (no
    form of an example touches another example's world)."""
    return {
        table.name: db.session.scalar(select(func.max(keys[0]))) or 0
        for table, keys, _ in _text_tables()
        if len(keys) == 1 and isinstance(keys[0].type, Integer)
    }


def snapshot(marks: dict[str, int]) -> dict[tuple[str, tuple, str], str]:
    """Every text cell of every table (since the marks), by table, primary key and column."""
    cells = {}
    for table, keys, columns in _text_tables():
        query = select(*keys, *columns)
        if table.name in marks:
            query = query.where(keys[0] > marks[table.name])
        for row in db.session.execute(query):
            key = tuple(row[: len(keys)])
            for column, value in zip(columns, row[len(keys) :], strict=True):
                if value is not None:
                    cells[(table.name, key, column.name)] = str(value)
    return cells


def changed_cells(before: dict, after: dict) -> list[tuple[tuple, str]]:
    return [(key, value) for key, value in after.items() if before.get(key) != value]


def _probe(text: str) -> str | None:
    """A distinctive run of the text, to recognise it stored in an altered form."""
    runs = re.findall(r"\w{6,}", text)
    return max(runs, key=len) if runs else None


# -- one submission -------------------------------------------------------------------------------

ALL_TEXT = "every text field"
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class FormUnderTest:
    kind: str
    page: str  # a pattern of PAGES, filled from each example's world
    form: Form

    def __str__(self) -> str:
        return f"{self.kind} on {self.page} -> {self.form.action}"


def targets_of(form: Form) -> list[object]:
    fillable = [i for i, e in enumerate(form.elements) if e.is_text or e.is_choice]
    texts = [i for i in fillable if form.elements[i].is_text]
    return fillable + ([ALL_TEXT] if len(texts) > 1 else [])


_FILLER_NUMBER = counter(1)


class Filler:
    """Valid values for the text boxes that do not get the hostile text: what the page holds
    already, else a fresh plain value of the box's type (a number or a date box stays empty)."""

    def __init__(self, domain: str):
        self.domain = domain

    def value_for(self, element: Element) -> str:
        if element.value or element.structured:
            return element.value
        n = next(_FILLER_NUMBER)
        return {
            "email": f"filler-{n}@{self.domain}",
            "password": PASSWORD,
            "url": f"https://example.org/{n}",
            "tel": f"0123 456 {n:04d}",
        }.get(element.type, f"Plain words for a field, number {n}")


@dataclass(frozen=True)
class Plan:
    """One submission: which control gets the hostile text (``ALL_TEXT``: every text box), the
    text, a seed that picks the other controls' (valid) values, and whether the body is sent as
    multipart/form-data (as a form with ``enctype`` would) instead of URL-encoded."""

    target: object
    text: str
    seed: int = 0
    multipart: bool = False


def plans_for(form: Form, domain: str) -> st.SearchStrategy[Plan]:
    def plan(target) -> st.SearchStrategy[Plan]:
        element = form.elements[target] if isinstance(target, int) else None
        kind = element.type if element is not None and element.is_text else "text"
        return st.builds(
            Plan, st.just(target), hostile_for(kind, domain), st.integers(0, 999), st.booleans()
        )

    return st.sampled_from(targets_of(form)).flatmap(plan)


def explicit_plans(form: Form, domain: str) -> list[Plan]:
    """Always tried, whatever the random examples are: each text box gets every kind of trouble
    and 10,000 characters; each choice a value the page never offered."""
    plans = []
    passwords = [i for i, e in enumerate(form.elements) if e.type == "password"]
    for target in targets_of(form):
        if target == ALL_TEXT:
            plans.append(Plan(target, SINK_TOO))
            continue
        element = form.elements[target]
        if not element.is_text:
            plans.append(Plan(target, TAMPERED))
        elif not element.structured and target not in passwords[1:]:
            sink = HOSTILE_EMAIL.format(domain=domain) if element.type == "email" else SINK
            plans += [Plan(target, sink), Plan(target, _long_text("é🙂<b>"))]
    return plans


def submit_hostile(
    app, client, world: World, under_test: FormUnderTest, form: Form, known: Known, plan, filler
) -> None:
    pick = random.Random(plan.seed)
    target = plan.target
    elements = form.elements
    if target == ALL_TEXT:
        text_targets = [i for i, e in enumerate(elements) if e.is_text]
    elif elements[target].type == "password":
        # Every password box gets the same text, so "confirm password" agrees.
        text_targets = [i for i, e in enumerate(elements) if e.type == "password"]
    else:
        text_targets = [target] if elements[target].is_text else []
    hostile = dict.fromkeys(text_targets, plan.text)
    tampered = target if isinstance(target, int) and not elements[target].is_text else None
    tampered_value = plan.text if tampered is not None else None

    payload = MultiDict()
    for i, element in enumerate(elements):
        if i in hostile:
            payload.add(element.name, hostile[i])
        elif i == tampered:
            payload.add(element.name, tampered_value)
        elif element.is_text:
            payload.add(element.name, filler.value_for(element))
        elif element.type in ("radio", "select", "button"):
            if element.options:
                payload.add(element.name, pick.choice(element.options))
        elif element.type == "checkbox":
            if element.checked:  # never ticked by the test: a tick is someone's consent
                payload.add(element.name, element.value or "on")
        else:
            payload.add(element.name, element.value)

    endpoint = endpoint_of(app, form.action)
    before = snapshot(world.marks)
    encoding = "multipart/form-data" if plan.multipart else "application/x-www-form-urlencoded"
    response = client.post(form.action, data=payload, content_type=encoding)
    where = f"{under_test} ({endpoint})"
    assert response.status_code < 500, f"{where}: {response.status_code}"
    after = snapshot(world.marks)
    changed = changed_cells(before, after)
    sent = [*hostile.values(), *([tampered_value] if tampered_value is not None else [])]
    body = html_of(response)
    assert_escaped(body, sent, known, where)

    accepted = response.status_code in REDIRECTS
    if accepted:
        location = response.headers["Location"]
        assert urlsplit(location).netloc in ("", "deliberate.test"), f"{where}: {location}"
        shown = client.get(location)
        assert shown.status_code < 500, f"{where}: {location} gave {shown.status_code}"
        assert_escaped(html_of(shown), sent, known, f"{where} then {location}")

    if tampered is not None:
        element = form.elements[tampered]
        value_received = received(tampered_value)
        if value_received not in element.options and value_received != element.value:
            stored = [key for key, value in changed if value == value_received]
            assert not stored, f"{where}: tampered {element.name} stored in {stored}"
        return

    too_long = {
        i
        for i, text in hostile.items()
        if len(text) >= LONG and LONGER_ALLOWED.get((endpoint, form.elements[i].name), 0) < LONG
    }
    if too_long:
        assert not accepted, f"{where}: 10,000 characters accepted"
    if not accepted:
        summary = _error_summary(body)
        assert summary, f"{where}: refused ({response.status_code}) without an error summary"
        for i in too_long:
            element = form.elements[i]
            # A password box that is wrong says so; a long one is simply not the password.
            if not element.structured and element.type != "password":
                assert "or fewer" in summary, f"{where}: 10,000 characters refused with {summary}"
    for i, text in hostile.items():
        element = form.elements[i]
        rule = NORMALISED.get((endpoint, element.name)) or _default_rule(element)
        strict = (endpoint, element.name) in NORMALISED
        check_stored(text, rule, accepted, strict, changed, after, f"{where} {element.name}")


def check_stored(text, rule, accepted, strict, changed, after, where):
    text = received(text)
    if rule is NOT_TEXT:
        return
    if rule is NEVER_STORED:
        if len(text) >= 8 and text.strip():
            stored = [key for key, value in changed if text in value]
            assert not stored, f"{where}: the password was stored as sent, in {stored}"
        return
    normalised = rule(text)
    allowed = {normalised} if isinstance(normalised, str) else set(normalised)
    expected = normalised if isinstance(normalised, str) else received(text).strip()
    probe = _probe(expected)
    if not accepted:
        stored = [key for key, value in changed if value in allowed and value]
        if probe and len(probe) >= 8:
            stored += [key for key, value in changed if probe in value]
        assert not stored, f"{where}: refused, yet stored in {stored}"
        return
    if any(value in allowed for _, value in changed) or allowed & set(after.values()):
        return
    altered = [(key, value[:200]) for key, value in changed if probe and probe in value]
    assert not altered, f"{where}: stored altered: expected {expected[:200]!r}, found {altered}"
    assert not strict, f"{where}: accepted, but {expected[:200]!r} is stored nowhere"


def _error_summary(html: str) -> str:
    match = re.search(r'class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    return html_module.unescape(match.group(0)) if match else ""


# -- the tests ------------------------------------------------------------------------------------


def signed_in_client(app, world: World, kind: str):
    """A browser of its own, signed in as the world's person of this kind (unless anonymous)."""
    client = app.test_client()
    if kind != "anonymous":
        sign_in(client, world.emails[kind], PASSWORD)
    return client


DISCOVERED_PAGES = "pages found in the app"
CASES = [(kind, page) for kind in KINDS for page in PAGES[kind]] + [
    (kind, DISCOVERED_PAGES) for kind in DISCOVERED
]


def forms_for(
    app, missions, create_user, kind: str, page: str
) -> tuple[list[FormUnderTest], Known]:
    """The forms this kind of person finds on the page (or on the pages found in the app), leaving
    out those an earlier page of the kind's list already has; and the kind's pages, the site's
    own markup."""
    world = build_world(missions, create_user, kind)
    client = signed_in_client(app, world, kind)
    patterns = page_patterns(app, kind)
    mine = [p for p in patterns if p not in PAGES[kind]] if page == DISCOVERED_PAGES else [page]
    if not mine:
        return [], Known("", frozenset())
    found: dict[tuple, FormUnderTest] = {}
    covered: set[tuple] = set()
    pages = []
    for pattern in patterns:
        url = pattern.format(**world.ids)
        response = client.get(url)
        assert response.status_code < 500, f"{kind}: {url} gave {response.status_code}"
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = html_of(response)
        pages.append(html)
        for form in forms_on(html, f"http://deliberate.test{url}"):
            key = form.key(app)
            if not targets_of(form) or key in covered:
                continue
            if pattern in mine:
                found.setdefault(key, FormUnderTest(kind, pattern, form))
            elif patterns.index(pattern) < min(patterns.index(p) for p in mine):
                covered.add(key)
    scripts = frozenset(script for html in pages for script in inline_scripts(html))
    return list(found.values()), Known("\n".join(pages), scripts)


HYPOTHESIS = settings(
    max_examples=EXAMPLES_PER_FORM,
    deadline=None,
    derandomize=True,  # the same examples on every run, locally and in CI
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def hostile_examples(app, missions, create_user, under_test: FormUnderTest, site: Known):
    """A property of one form; each example builds its own world and signs in afresh."""
    key = under_test.form.key(app)
    domain = app.config["STAFF_EMAIL_DOMAINS"][0]
    filler = Filler(domain)

    @HYPOTHESIS
    @given(plan=plans_for(under_test.form, domain))
    def example(plan):
        world = build_world(missions, create_user, under_test.kind)
        client = signed_in_client(app, world, under_test.kind)
        url = under_test.page.format(**world.ids)
        page = client.get(url)
        assert page.status_code == 200, f"{under_test}: {url} gave {page.status_code}"
        page_html = html_of(page)
        form = next(
            (f for f in forms_on(page_html, f"http://deliberate.test{url}") if f.key(app) == key),
            None,
        )
        assert form is not None, f"{under_test}: the form is gone from {url}"
        known = Known(page_html + site.html, site.scripts)
        submit_hostile(app, client, world, under_test, form, known, plan, filler)

    for plan in explicit_plans(under_test.form, domain):
        example = hypothesis_example(plan=plan)(example)
    return example


@pytest.mark.parametrize(("kind", "page_pattern"), CASES, ids=[f"{k}:{p}" for k, p in CASES])
def test_every_form_survives_hostile_input(app, missions, create_user, kind, page_pattern):
    """Every form of the page, as this kind of person: hostile text in each text box (and in all
    at once), and values the page never offered in each choice, with the checks of the module's
    docstring on every submission."""
    # Comments and seeds ask for (debounced) background work; none of it is wanted here.
    app.config.update(EMBEDDING_DELAY_SECONDS=3600, ANALYSIS_DEBOUNCE_SECONDS=3600)
    forms, site = forms_for(app, missions, create_user, kind, page_pattern)
    if page_pattern == DISCOVERED_PAGES and not forms:
        pytest.skip(f"no {kind} page found in the app has a form of its own (yet)")
    assert forms, f"{kind} finds no form to fill in on {page_pattern}"
    for under_test in forms:
        hostile_examples(app, missions, create_user, under_test, site)()


# -- bugs the hostile input found, each pinned down ----------------------------------------------


def test_nul_is_removed_from_every_form_field_so_a_question_or_a_name_with_one_is_stored(
    app, client, missions, create_user
):
    """PostgreSQL cannot store NUL: a question, its context, its service areas or a person's name
    with one gave a server error. It is removed from every field before any form reads it."""
    create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    response = submit_form(
        client,
        "/manage/missions/nhs/consultations/new",
        {
            "title": "Waiting\x00 times?",
            "context": "Why\x00 we ask.",
            "moderation_mode": "post",
            "allow_anonymous": "yes",
            "service_areas": "A\x00&E\r\nGP\x00 surgery",
            "opens_on": ["", "", ""],
            "closes_on": ["", "", ""],
        },
    )
    assert response.status_code == 302
    consultation = db.session.scalars(select(Consultation)).one()
    assert (consultation.title, consultation.context) == ("Waiting times?", "Why we ask.")
    assert consultation.service_areas == "A&E\nGP surgery"

    newcomer = app.test_client()
    response = submit_form(
        newcomer,
        "/register",
        {
            "display_name": "Sam\x00 Nurse",
            "email": "sam@example.org",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User.display_name).where(User.email == "sam@example.org")) == (
        "Sam Nurse"
    )


# -- stored hostile text, shown ------------------------------------------------------------------

HOSTILE_STATEMENTS = [
    "<script>alert(1)</script> Shorter waits at A&E",
    '"><img src=x onerror=alert(1)> More nurses on wards',
    "'><svg onload=alert(1)> Weekend GP appointments",
    "javascript:alert(1) Better mental health care",
    "{{7*7}} ' OR 1=1 -- Cheaper prescriptions",
    "Fewer forms \u202eRTL zero\u200bwidth 🙂 e\u0301 '; DROP TABLE users; --",
]
RAW = ["<script>alert(1)", "<img src=x", "<svg onload", 'href="javascript:']


def shown_text(html: str) -> str:
    """What a person reads: tags dropped, entities decoded, white space runs made one space."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def assert_shown_escaped(html: str, where: str, shown: list[str], site_scripts: set[str]) -> None:
    """No raw payload, no event handler or script link, no inline script but the site's own; and
    each text of ``shown`` is on the page, escaped, exactly as stored."""
    parser = _Markup()
    parser.feed(html)
    assert not parser.problems, f"{where}: {parser.problems}"
    assert set(parser.inline_scripts) <= site_scripts, f"{where}: {parser.inline_scripts}"
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} unescaped"
    leaks = bidi_leaks(html)
    assert not leaks, f"{where}: a direction override turns the words around it: {leaks}"
    page_text = shown_text(html)
    for text in shown:
        assert " ".join(text.split()) in page_text, f"{where}: {text!r} is not shown as written"
    if any("{{7*7}}" in text for text in shown):
        assert "49 ' OR" not in page_text, f"{where}: a template ran"


def test_stored_hostile_statements_are_shown_escaped_on_every_page_that_shows_them(
    app, client, missions, create_user
):
    """XSS payloads as statements, question, context, service areas, idea and name: shown as
    text on the consultation page, the moderation queue, the report and its statement table."""
    from deliberate.services.analysis import run_analysis
    from deliberate.services.reports import publish_run

    mission = missions["nhs"]
    team = create_user(email="team@example.org", name="Sam \u202eNurse <b>", team=(mission,))
    title = "</title><script>alert(1)</script> {{7*7}} What should change \u202efirst?"
    consultation = Consultation(
        mission=mission,
        title=title,
        context=HOSTILE_STATEMENTS[1],
        service_areas='<img src=x onerror=alert(1)>\n"><svg onload=alert(1)> \u202eA&E',
        allow_anonymous=True,
    )
    db.session.add(consultation)
    db.session.flush()
    statements = [
        write_statement(consultation, text, origin=StatementOrigin.SEED)
        for text in HOSTILE_STATEMENTS
    ]
    consultation.open()
    for n in range(24):  # two camps, so the report has groups, and a statement table
        person = Participant(
            consultation_id=consultation.id,
            role=ParticipantRole.STAFF if n % 3 else ParticipantRole.CITIZEN,
            anonymous_token_hash=f"voter-{n}",
        )
        db.session.add(person)
        db.session.flush()
        for i, statement in enumerate(statements):
            choice = 1 if (i + n) % 2 else -1
            for model in (Vote, VoteEvent):
                db.session.add(
                    model(
                        consultation_id=consultation.id,
                        participant_id=person.id,
                        statement_id=statement.id,
                        choice=choice,
                        cast_at_ms=1_700_000_000_000 + n,
                    )
                )
    moderated = Consultation(mission=mission, title="Moderated", moderation_mode=ModerationMode.PRE)
    db.session.add(moderated)
    db.session.flush()
    moderated.open()
    author = Participant(
        consultation_id=moderated.id, role=ParticipantRole.CITIZEN, anonymous_token_hash="author"
    )
    db.session.add(author)
    db.session.flush()
    pending = write_statement(
        moderated, HOSTILE_STATEMENTS[0], origin=StatementOrigin.PARTICIPANT, author=author
    )
    idea = Idea(
        mission=mission,
        author=team,
        title=HOSTILE_STATEMENTS[5],
        problem=HOSTILE_STATEMENTS[4],
        proposal=HOSTILE_STATEMENTS[5],
        evidence=HOSTILE_STATEMENTS[0],
    )
    db.session.add(idea)
    db.session.flush()
    run = run_analysis(consultation.id, topics=False)
    publish_run(team, consultation, run)
    db.session.commit()

    site_scripts = inline_scripts(html_of(client.get("/privacy")))
    cid = consultation.id
    public = {
        f"/consultations/{cid}": [title],
        f"/consultations/{cid}/statements/{statements[0].id}": [HOSTILE_STATEMENTS[0]],
        f"/consultations/{cid}/statements/{statements[5].id}": [HOSTILE_STATEMENTS[5]],
        f"/consultations/{cid}/about-you": ["<img src=x onerror=alert(1)>"],
        f"/consultations/{cid}/report": [title],
        f"/consultations/{cid}/report/runs/{run.id}": [],
        f"/consultations/{cid}/report/runs/{run.id}/statements": HOSTILE_STATEMENTS,
        f"/missions/{mission.slug}": [],
        f"/missions/{mission.slug}/ideas": [HOSTILE_STATEMENTS[5]],
        f"/ideas/{idea.id}": [HOSTILE_STATEMENTS[i] for i in (0, 4, 5)],
    }
    for url, shown in public.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_shown_escaped(html_of(response), url, shown, site_scripts)
    next_statement = shown_text(html_of(client.get(f"/consultations/{cid}")))
    assert any(" ".join(text.split()) in next_statement for text in HOSTILE_STATEMENTS)

    sign_in(client, "team@example.org")
    team_pages = {
        "/manage": [title],
        f"/manage/consultations/{cid}": HOSTILE_STATEMENTS,
        f"/manage/consultations/{cid}/edit": [],
        f"/manage/consultations/{cid}/analysis": [],
        f"/manage/consultations/{moderated.id}/moderation": [HOSTILE_STATEMENTS[0]],
        f"/manage/statements/{pending.id}": [HOSTILE_STATEMENTS[0]],
        f"/consultations/{cid}/report/runs/{run.id}": [],
    }
    for url, shown in team_pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_shown_escaped(html_of(response), url, shown, site_scripts)
