"""Serving stored files: always through a scoped lookup, always as an attachment, never with
a name or a type the browser could be talked into executing."""

from __future__ import annotations

from django.http import FileResponse

from operations.models import Authorization
from reports.models import WrittenReport


def authorization_file_response(auth: Authorization) -> FileResponse:
    ext = auth.stored_name.rsplit(".", 1)[-1] if "." in auth.stored_name else "bin"
    # The user's file name is only a suggestion to the browser; the extension is ours.
    base = (auth.original_name.rsplit(".", 1)[0] or "authorization")[:100]
    response = FileResponse(auth.file.open("rb"), as_attachment=True, filename=f"{base}.{ext}",
                            content_type=auth.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def report_file_response(report: WrittenReport) -> FileResponse:
    response = FileResponse(report.file.open("rb"), as_attachment=True, filename=report.filename,
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response
