"""Heartbeats of the long-running loops (the sweep, the notification sender, the prober): one
row per loop, rewritten at most about once a second, read by /healthz and /metrics."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay


class LoopHeartbeat(FastChoiceDisplay, models.Model):
    """The last completed iteration of one loop: when, how long it took, by which process."""

    name = models.CharField(_("loop"), max_length=40, unique=True)
    host = models.CharField(_("host"), max_length=200, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    started_at = models.DateTimeField(_("process started at"), null=True, blank=True)
    beat_at = models.DateTimeField(_("last completed iteration at"))
    last_duration_ms = models.FloatField(_("duration of the last iteration (ms)"), default=0)
    iterations = models.BigIntegerField(_("iterations"), default=0)
    # Free-form figures of the last iteration (e.g. {"breached": 3, "warned": 1}).
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("loop heartbeat")
        verbose_name_plural = _("loop heartbeats")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
