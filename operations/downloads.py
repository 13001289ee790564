"""Serving stored files: always through a scoped lookup, always as an attachment, never with
a name or a type the browser could be talked into executing (slaportal.downloads)."""

from __future__ import annotations

from django.http import FileResponse

from operations.models import Authorization
from reports.models import WrittenReport
from slaportal.downloads import file_download


def authorization_file_response(auth: Authorization) -> FileResponse:
    """The signed document, as `operation-<id>-authorization-<id>.<checked extension>`: the
    uploader's file name is kept in the row for staff to read, never used for the download."""
    return file_download(auth.file, stem=f"operation-{auth.operation_id}-authorization-{auth.pk}",
                         content_type=auth.content_type)


def report_file_response(report: WrittenReport) -> FileResponse:
    return file_download(report.file, stem=report.number, content_type="application/pdf")
