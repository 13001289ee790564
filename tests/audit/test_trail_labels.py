"""An audit trail reads in the reader's language: action codes, states and the workflows' fixed
reasons are shown as labels, never as `check_in` or `due_at passed`."""

from __future__ import annotations

from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import timezone, translation


def _row(action: str, from_state: str, to_state: str, reason: str) -> SimpleNamespace:
    return SimpleNamespace(at=timezone.now(), action=action, from_state=from_state, to_state=to_state,
                           actor=None, reason=reason)


def test_codes_render_as_chinese_labels_in_every_trail_template():
    rows = [_row("breach", "running", "breached", "due_at passed"),
            _row("check_in", "approved", "checked_in", ""),
            _row("month_close", "", "", "scheduled month close"),
            _row("rejudge", "breached", "met", "free text stays as written"),
            _row("exempt", "breached", "cancelled", "exempt: force_majeure"),
            _row("item_done", "", "open", "installation completed")]
    with translation.override("zh-hans"):
        for template in ("audit/_trail.html", "access_requests/_audit.html"):
            html = render_to_string(template, {"audit": rows})
            for code in ("due_at passed", "check_in", "checked_in", "month_close", "rejudge",
                         "force_majeure", "item_done", "installation completed"):
                assert code not in html, (template, code)
            for label in ("已到期限", "违约", "已入场", "月度结算", "已重新评判", "已达成", "豁免：不可抗力",
                          "检查项已完成", "初装已完成", "free text stays as written"):
                assert label in html, (template, label)
