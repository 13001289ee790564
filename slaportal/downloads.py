"""Every file the portal hands out (uploaded attachments, written authorizations, report PDFs,
visit logs, the overdue CSV) goes through here: always a download (Content-Disposition:
attachment), under a name the server builds, with the extension and the Content-Type of the
type the server checked (slaportal.uploads) or produced, and `X-Content-Type-Options: nosniff`.

The uploader's file name never reaches the response: `evil.html` uploaded as a PNG is served as
`complaint-12-attachment-3.png`, image/png, and a browser neither renders nor sniffs it."""

from __future__ import annotations

import re
from typing import IO, Any

from django.http import FileResponse, Http404, HttpResponse

from .uploads import SIGNATURES

# The types we produce ourselves, next to the uploaded ones slaportal.uploads recognises.
PRODUCED_TYPES = {"application/pdf": "pdf", "text/csv": "csv", "text/calendar": "ics"}
EXTENSIONS: dict[str, str] = {**PRODUCED_TYPES, **{mime: ext for _magic, mime, ext in SIGNATURES}}
UNKNOWN_TYPE = "application/octet-stream"


def extension_for(content_type: str) -> str:
    """The file extension of a checked content type; `bin` for anything we did not check."""
    return EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower(), "bin")


def name_part(text: Any) -> str:
    """A piece of a server-built file name: ASCII letters, digits, dot, dash and underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip(".-")
    return cleaned[:100] or "file"


def download_name(stem: str, content_type: str) -> str:
    return f"{name_part(stem)}.{extension_for(content_type)}"


def _harden(response: Any) -> Any:
    response["X-Content-Type-Options"] = "nosniff"
    # The files carry customers' data: no shared cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response


def checked_type(content_type: str | None) -> str:
    """The Content-Type to serve a stored file with: the type checked at upload if it is one we
    know, otherwise an opaque download."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime if mime in EXTENSIONS else UNKNOWN_TYPE


def file_download(field_file: Any, *, stem: str, content_type: str | None) -> FileResponse:
    """A stored file (a FieldFile) as an attachment named `<stem>.<checked extension>`. A file
    missing from storage is a 404, not a 500."""
    mime = checked_type(content_type)
    try:
        fh: IO[bytes] = field_file.open("rb")
    except (FileNotFoundError, ValueError):  # ValueError: the row has no file
        raise Http404 from None
    response = FileResponse(fh, as_attachment=True, filename=download_name(stem, mime), content_type=mime)
    _harden(response)
    return response


def as_download(response: Any, *, stem: str, content_type: str) -> Any:
    """Mark a response the view builds itself (a CSV written row by row, a DRF Response that a
    renderer turns into CSV) as an attachment named `<stem>.<extension>`."""
    mime = content_type.split(";", 1)[0].strip().lower()
    response["Content-Disposition"] = f'attachment; filename="{download_name(stem, mime)}"'
    return _harden(response)


def bytes_download(content: bytes | str, *, stem: str, content_type: str) -> HttpResponse:
    """Bytes the server produced (a CSV, a PDF) as an attachment named `<stem>.<extension>`."""
    mime = content_type.split(";", 1)[0].strip().lower()
    charset = "; charset=utf-8" if mime.startswith("text/") else ""
    return as_download(HttpResponse(content, content_type=f"{mime}{charset}"), stem=stem, content_type=mime)
