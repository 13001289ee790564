"""PDF rendering with WeasyPrint. Fetches nothing from the network or the file system beyond the
project's own static files: user text is autoescaped by the template, and the URL fetcher
refuses every other URL, so `<img src="http://...">` or `file:///etc/passwd` reaches nothing."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

STATIC_SCHEME = "static:"


class FetchRefused(ValueError):
    pass


class StaticOnlyFetcher:
    """A WeasyPrint URL fetcher that serves `static:<path>` from the project's static files and
    refuses everything else (http, https, file, data, ftp...). WeasyPrint catches the refusal,
    logs it and renders without the resource."""

    _fail_on_errors = False

    def __call__(self, url: str) -> Any:
        return self.fetch(url)

    def fetch(self, url: str, headers: Any = None) -> Any:
        from weasyprint.urls import URLFetcherResponse

        if url.startswith(STATIC_SCHEME):
            rel = unquote(url[len(STATIC_SCHEME):]).lstrip("/")
            if rel and ".." not in Path(rel).parts:
                found = finders.find(rel)
                if found:
                    mime = "text/css" if rel.endswith(".css") else "application/octet-stream"
                    return URLFetcherResponse(url, Path(found).read_bytes(),
                                              {"Content-Type": mime}, 200)
        logger.warning("pdf fetch refused url=%s", url[:200])
        raise FetchRefused(f"refused: {url[:200]}")


def render_pdf(*, template: str, context: dict[str, Any], language: str = "zh-hans") -> bytes:
    """Render `template` in `language` to PDF bytes."""
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, context)
    return HTML(string=html, base_url=f"{STATIC_SCHEME}/", url_fetcher=StaticOnlyFetcher()).write_pdf()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def font_family() -> str:
    return getattr(settings, "REPORT_FONT_FAMILY", '"Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif')
