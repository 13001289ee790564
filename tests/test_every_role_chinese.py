"""Every role's pages are Chinese (zh-hans): the demo data is loaded once, each demo login crawls
the portal from the home page following the links it renders, and each page's visible text must
hold no English a reader would notice:

a) an English string of the catalogue (locale/zh_Hans/.../django.po) shown as written, i.e. one
   that reached the page without going through its translation (a choice's code instead of its
   label, a `{% translate %}` forgotten, a string translated at import time, …);
b) any other English word of 3 letters or more that is not a code or unit on ALLOWED below, nor
   a data value the demo loader wrote in Latin letters (customer, contact, service and target
   names, host names, e-mail addresses, user names), which are computed from the database.

Every link the portal renders must answer 200 (after redirects) for the role that sees it.
All failures are reported at once, one line each, with the page, the page that linked to it and
the text in question, so a failing run says what to fix. Runtime: see CRAWL_* below."""

from __future__ import annotations

import re
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from customers.management.commands.load_demo import LOGINS
from tests.test_i18n_catalogue import _entries

ROLES = [username for username, _role, _label in LOGINS]
CRAWL_MAX_PAGES = 120  # per role
CRAWL_MAX_PER_PATTERN = 2  # pages per URL pattern (50 complaints do not make 50 pages)

# Never followed: leaving (logout), switching language, machine interfaces, files, Django's admin
# (only its index is visited, by the admin), and downloads.
SKIP_PREFIXES = ("/accounts/logout", "/i18n/", "/api/", "/static/", "/media/", "/admin/",
                 "/favicon.ico", "/healthz")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".png", ".svg", ".zip", ".txt", ".json", ".eml")
SKIP_QUERY = re.compile(r"(^|&)(format|download|export)=")

# Latin words that are legitimately Latin on a Chinese page: units, protocols, codes and brands.
# Reviewed by hand; a word is matched case-sensitively, so "SLA" passes and "Sla"/"sla" do not.
ALLOWED = {
    # units
    "MB", "GB", "TB", "KB", "ms", "Mbps", "Kbps", "Gbps", "bps", "pps", "kbit", "Mbit",
    # protocols, formats, standards
    "SLA", "PDF", "CSV", "API", "REST", "JSON", "SMTP", "IMAP", "POP3", "POP", "HTTP", "HTTPS",
    "DNS", "MX", "SPF", "DKIM", "DMARC", "SNMP", "MRTG", "ISC", "AV", "TCP", "UDP", "ICMP", "TLS",
    "SSL", "STARTTLS", "IPv4", "IPv6", "IP", "ID", "URL", "UTC", "CST", "RBL", "DNSBL", "ISP",
    "CPU", "RAM", "UPS", "ASN", "OID", "ifInOctets", "ifOutOctets", "ifHCInOctets",
    "ifHCOutOctets", "Alertmanager", "Prometheus", "ping", "VLAN", "NOC", "SMS", "IDC", "CA",
    "SNMPv2c", "SNMPv3", "UTF", "ASCII", "MIME", "SSH", "FTP", "WWW", "RAID", "SAS", "SSD", "NSP",
    "DES", "AES", "MD5", "SHA", "PNG", "JPEG", "JPG", "GIF", "Webhook", "ifIndex", "ifName",
    "ifDescr", "YYYY", "MM", "DD", "HH", "Web", "web", "WEB",
    # software the mail platform and backups are built from
    "Postfix", "Dovecot", "restic", "Rspamd", "SpamAssassin", "ClamAV",
    # the product, the languages menu
    "Portal", "English",
}

# Names shown as written (English by nature) that the database does not hold: Django's admin,
# the portal's time zone.
ALLOWED_PHRASES = ("Django", "Asia/Shanghai")


# ---- the catalogue ---------------------------------------------------------------------------

_FORMAT = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[sdifr%]|\{[^}]*\}")


def catalogue_english() -> dict[str, str]:
    """English msgids worth looking for on a page, keyed by their lower-case form: 2 words or more
    or one word of 4 letters or more, and translated to something other than themselves (a msgid
    translated as itself, such as "SLA", is Latin on purpose). Strings with placeholders are left
    to check (b), which catches their words."""
    found: dict[str, str] = {}
    for e in _entries():
        msgid, msgstr = e["msgid"], e["msgstr"]
        if not msgstr or msgstr.strip() == msgid.strip() or _FORMAT.search(msgid):
            continue
        text = " ".join(msgid.split())
        words = re.findall(r"[A-Za-z]+", text)
        if not words or not (len(words) >= 2 or len(words[0]) >= 4):
            continue
        found.setdefault(text.lower(), text)
    return found


# ---- reading a page --------------------------------------------------------------------------

class _Page(HTMLParser):
    """The text a reader sees (text nodes, option labels, titles, placeholders, alt texts, button
    values), the links, skipping scripts, styles and other attribute values."""

    HIDDEN = {"script", "style", "template", "noscript"}
    SHOWN_ATTRS = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in self.HIDDEN:
            self._hidden += 1
            return
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name in self.SHOWN_ATTRS:
            if a.get(name):
                self.texts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
            self.texts.append(a["value"])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            text = " ".join(data.split())
            if text:
                self.texts.append(text)


def read_page(html: str) -> tuple[list[str], list[str]]:
    p = _Page()
    p.feed(html)
    p.close()
    return p.texts, p.links


# ---- deciding what is English ----------------------------------------------------------------

# Things written in Latin letters that are not words: e-mail addresses, URLs and paths, host and
# domain names, codes with digits (C8, E3-BILL, HX-01, POP3), file names.
_NOT_WORDS = re.compile(
    r"[\w.+-]+@[\w.-]+"                   # e-mail
    r"|\b[a-z][a-z0-9+.-]*://\S+"         # URL
    r"|(?<!\w)/[\w./?=&%-]*"              # path
    r"|\b[\w-]+(\.[\w-]+)+\b"             # host, domain, file name, dotted number
    r"|\b[\w-]*\d[\w-]*\b"                # anything holding a digit: codes, numbers
    r"|\.(?:pdf|png|jpe?g|gif|csv|txt|zip|eml|xlsx?)\b",  # a file's extension after Chinese
    re.ASCII,  # \w is a Latin letter, digit or _: a Chinese character next to a code stays
)
_ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+|[\w-]+(\.[\w-]+)+", re.ASCII)
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


class Judge:
    """Says what is English in a text node. `data` is what the demo data holds in Latin letters by
    nature: names, codes and hosts (removed wherever they appear) and free text people typed or
    messages sent in a contact's language (a node that is part of one is skipped)."""

    def __init__(self, *, names: set[str], texts: list[str], usernames: set[str]) -> None:
        self.catalogue = catalogue_english()
        self.by_first_word: dict[str, list[str]] = defaultdict(list)
        for low in self.catalogue:
            if len(low.split()) > 1:
                self.by_first_word[re.findall(r"[a-z]+", low)[0]].append(low)
        # Addresses and host names are left to _NOT_WORDS (removing one inside an e-mail address
        # would leave the rest of the address behind).
        names = {n for n in names if re.search(r"[A-Za-z]", n) and not _ADDRESS.fullmatch(n)}
        self.names = (re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
                      if names else None)
        self.texts = "\0".join(" ".join(t.split()) for t in texts)
        self.usernames = usernames
        self._cache: dict[str, str | None] = {}

    def problem(self, text: str) -> str | None:
        """What is wrong with one text node (cached: the same nodes recur on every page)."""
        if text not in self._cache:
            self._cache[text] = self._problem(text) if re.search(r"[A-Za-z]", text) else None
        return self._cache[text]

    def _problem(self, text: str) -> str | None:
        if len(text) > 12 and text in self.texts:
            return None  # free text from the data, as typed or sent
        rest = self.names.sub(" ", text) if self.names else text
        rest = _NOT_WORDS.sub(" ", rest)
        for phrase in ALLOWED_PHRASES:
            rest = rest.replace(phrase, " ")
        words = [w for w in _WORD.findall(rest) if len(w) >= 3 and w not in ALLOWED]
        bare = " ".join(re.findall(r"[A-Za-z]+(?:'[a-z]+)?", rest)).lower()
        if bare in self.usernames:
            return (f"user name {bare!r} shown: show the person's full name "
                    "(get_full_name / the person filter)")
        if bare in self.catalogue and words:
            return (f"catalogue string {self.catalogue[bare]!r} shown untranslated (a code shown "
                    "raw instead of its choices label, or a string not passed through gettext)")
        if not words:
            return None
        low = " ".join(rest.split()).lower()
        inside = [self.catalogue[c] for w in dict.fromkeys(re.findall(r"[a-z]+", low))
                  for c in self.by_first_word.get(w, ())
                  if re.search(r"(?<![a-z])" + re.escape(c) + r"(?![a-z])", low)]
        hint = f" (holds catalogue string(s) {', '.join(map(repr, inside[:3]))})" if inside else ""
        return f"English word(s) {', '.join(dict.fromkeys(words))}{hint}"


def demo_data() -> dict[str, Any]:
    """What the demo data holds in Latin letters by nature: names of customers, contacts,
    services, targets, promises and clocks, titles, contract numbers, host names, e-mail
    addresses; the free text of every TextField outside the audit trail (descriptions people typed, messages sent in
    a contact's own language); and the user names (never shown: people are shown by name)."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db import models

    fields = {
        "customers.Customer": ("name", "code", "address"),
        "customers.AuthorizedContact": ("name", "email", "mrtg_username"),
        "customers.Service": ("name",),
        "customers.Contract": ("number",),
        "monitoring.Target": ("name", "host"),
        "sla.SlaPolicy": ("code", "name_zh"),
        # A clock's label names its subject: the demo's short clocks are "演示 Demo · …".
        "sla.Clock": ("label",),
    }
    names: set[str] = set()
    for label, wanted in fields.items():
        model = apps.get_model(label)
        present = [n for n in wanted if any(f.name == n for f in model._meta.get_fields())]
        for row in model.objects.values_list(*present):
            names.update(str(v) for v in row if v)
    texts: list[str] = []
    for model in apps.get_models():
        if model._meta.app_label in ("audit", "admin", "auth", "contenttypes", "sessions"):
            continue
        free = [f.name for f in model._meta.concrete_fields if isinstance(f, models.TextField)]
        if free:
            for row in model.objects.values_list(*free):
                texts += [str(v) for v in row if v]
        if any(f.name == "title" and isinstance(f, models.CharField) for f in model._meta.concrete_fields):
            names.update(t for t in model.objects.values_list("title", flat=True) if t)
    # The promises' clause and metric texts are bilingual data managers edit on the promises page
    # (the service-request rows' note "(no figure in the agreement: editable default)").
    for row in apps.get_model("sla.SlaPolicy").objects.values_list("clause", "metric"):
        texts += [str(v) for v in row if v]
    usernames = {u.lower() for u in get_user_model().objects.values_list("username", flat=True)}
    return {"names": names, "texts": texts, "usernames": usernames}


# ---- crawling --------------------------------------------------------------------------------

def _pattern(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name or match.route


def _followable(href: str, *, admin: bool) -> str | None:
    """The same-origin path (with its query) worth visiting, or None."""
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None  # mailto:, tel:, javascript:
    if parts.netloc and parts.netloc != "testserver":
        return None
    path = parts.path
    if not path.startswith("/"):
        return None  # relative links: the portal does not render any
    if path == "/admin/" and admin:
        return path
    if path.startswith(SKIP_PREFIXES) or path.lower().endswith(SKIP_SUFFIXES):
        return None
    if SKIP_QUERY.search(parts.query):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client, *, admin: bool) -> Iterator[tuple[str, str, Any]]:
    """(path, the page that linked to it, response) for each page reached from the home page,
    breadth first, at most CRAWL_MAX_PER_PATTERN pages per URL pattern."""
    seen, per_pattern = {"/"}, Counter[str]()
    queue: deque[tuple[str, str]] = deque([("/", "(start)")])
    pages = 0
    while queue and pages < CRAWL_MAX_PAGES:
        path, referrer = queue.popleft()
        response = client.get(path, follow=True)
        pages += 1
        yield path, referrer, response
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        _texts, links = read_page(response.content.decode())
        for href in links:
            target = _followable(href, admin=admin)
            if target is None or target in seen:
                continue
            seen.add(target)
            pattern = _pattern(urlsplit(target).path)
            key = pattern or target
            if per_pattern[key] >= CRAWL_MAX_PER_PATTERN:
                continue
            per_pattern[key] += 1
            queue.append((target, path))


# ---- the test --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Judge]:
    """The demo data, loaded once for the module inside a transaction rolled back at its end (the
    tests' own transactions nest in it as savepoints): other modules never see it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            yield Judge(**demo_data())
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_the_role_is_chinese(demo: Judge, username: str) -> None:
    from django.contrib.auth import get_user_model

    # A view that raises is a 500 on the list, not the end of the crawl.
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    failures: list[str] = []
    english: dict[str, list[str]] = defaultdict(list)  # problem → the pages showing it
    pages = 0
    for path, referrer, response in crawl(client, admin=username == "admin"):
        pages += 1
        where = f"[{username}] {path} (linked from {referrer})"
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        if response.status_code != 200:
            failures.append(f"{where}: HTTP {response.status_code}")
            continue
        if final.startswith("/accounts/login"):
            failures.append(f"{where}: redirected to the login page")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        if response.get("Content-Language", "zh-hans") != "zh-hans":
            failures.append(f"{where}: Content-Language {response['Content-Language']}")
        texts, _links = read_page(response.content.decode())
        for text in dict.fromkeys(texts):
            problem = demo.problem(text)
            if problem:
                snippet = text if len(text) <= 160 else text[:157] + "…"
                english[f"{problem} in {snippet!r}"].append(f"{path} (from {referrer})")
    for problem, where_all in english.items():
        more = f" and {len(where_all) - 3} more" if len(where_all) > 3 else ""
        failures.append(f"[{username}] {problem}\n      on {', '.join(where_all[:3])}{more}")
    assert pages > 5, f"[{username}] only {pages} pages reached from the home page"
    assert not failures, (f"{len(failures)} problem(s) on {pages} pages of {username}:\n"
                          + "\n".join(failures))


def test_the_check_catches_english() -> None:
    """The judge itself: an untranslated catalogue string, a raw code, a stray English word and a
    user name are caught; codes, units, addresses, names and typed text are not."""
    judge = Judge(names={"AV-SIG", "huaxia.example"}, texts=["请重启 db01 (Predictive Failure) 谢谢"],
                  usernames={"manager"})
    assert "catalogue string 'Complaints'" in (judge.problem("Complaints") or "")
    assert judge.problem("phone_attempt")  # a code shown raw
    assert judge.problem("requested → authorized")
    assert "English word(s) quux" in (judge.problem("原因：quux happened") or "")
    assert "user name" in (judge.problem("manager") or "")
    assert not judge.problem("C8 / E3-BILL 99.9 % SLA 10 MB 5 ms AV-SIG 病毒库升级")
    assert not judge.problem("zhangwei@huaxia.example https://portal.example/x 托管服务器 HX-01")
    assert not judge.problem("1 小时 44 分钟")
    assert not judge.problem("(Predictive Failure)")
    assert not judge.problem("书面授权-HX-01-换盘.pdf")
    texts, links = read_page('<p title="Close">x</p><script>var English = 1;</script>'
                             '<a href="/complaints/">投诉</a><option>requested</option>')
    assert texts == ["Close", "x", "投诉", "requested"] and links == ["/complaints/"]
