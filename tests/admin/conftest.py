"""A logged-in superuser and the admin's own forms, read back from the page the way a browser
would submit them (so a test changes one field and posts everything else unchanged)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def root(db):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_superuser("root", "root@example.test", "pw-root-123")


@pytest.fixture
def admin_client(client, root):  # type: ignore[no-untyped-def]
    client.force_login(root)
    # The assertions read the English messages; the Chinese are checked by the catalogue test.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class _AdminForm(HTMLParser):
    """The successful controls of the page's POST form with id ending in `_form`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_multiple = False
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and a.get("id", "").endswith("_form"):
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
                return
            self.pairs.append((name, "" if kind == "password" else a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_multiple, self._options = name, "multiple" in a, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel]
            if not chosen and not self._select_multiple and self._options:
                chosen = [self._options[0][0]]
            self.pairs += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.pairs.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def admin_form(client: Any, url: str) -> dict[str, Any]:
    """GET an admin add/change page and return what submitting it unchanged would POST."""
    r = client.get(url)
    assert r.status_code == 200, url
    parser = _AdminForm()
    parser.feed(r.content.decode())
    data: dict[str, Any] = {}
    for name, value in parser.pairs:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
    assert "csrfmiddlewaretoken" in data, "no admin form found on the page"
    return data
