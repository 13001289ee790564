"""Every write of the service desk (a package: requests and thread, service changes, renewals,
the mailbox), with one set of public names."""

from .changes import service_change_agree, service_change_apply
from .common import SR_FIRST, SR_RESOLVE, thread_tag, thread_token, thread_token_valid
from .inbound import inbound_mail_append, inbound_mail_dismiss, inbound_mail_process, mailbox_read_once
from .renewals import renewal_reminders_run, renewal_threshold
from .requests import (
    note_add,
    reopen_deadline,
    reply_add,
    request_assign,
    request_attach,
    request_cancel,
    request_close,
    request_create,
    request_reopen,
    request_resolve,
    request_resume,
    request_route,
    request_start,
    request_wait,
)

__all__ = [
    "SR_FIRST", "SR_RESOLVE", "inbound_mail_append", "inbound_mail_dismiss", "inbound_mail_process",
    "mailbox_read_once", "note_add", "renewal_reminders_run", "renewal_threshold", "reopen_deadline",
    "reply_add", "request_assign", "request_attach", "request_cancel", "request_close",
    "request_create", "request_reopen", "request_resolve", "request_resume", "request_route",
    "request_start", "request_wait", "service_change_agree", "service_change_apply", "thread_tag",
    "thread_token", "thread_token_valid",
]
