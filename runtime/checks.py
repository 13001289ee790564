"""System checks of the runtime (registered in RuntimeConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Info, Tags, Warning, register


@register(Tags.compatibility)
def notification_gateways(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """A notice sent through a backend that tells nobody is recorded as not delivered; with
    DEBUG off that is almost certainly a configuration mistake, so say it at start-up."""
    from notifications.channels import backend_for
    from notifications.channels.email import mail_backend_delivers

    out: list[Any] = []
    if not settings.DEBUG and not mail_backend_delivers():
        out.append(Warning(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: e-mail notices are printed or dropped, "
            "never delivered, and are recorded as not delivered.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, ...) to a real mail relay and "
                 "leave EMAIL_BACKEND unset.",
            id="notifications.W001"))
    for channel, path in settings.NOTIFICATION_BACKENDS.items():
        if path and not settings.DEBUG and not backend_for(channel).delivers:
            out.append(Warning(
                f"The {channel} gateway is {path}, which delivers nothing: {channel} notices are "
                "recorded as not delivered.",
                hint=f"Set NOTIFY_{channel.upper()}_BACKEND to a real gateway "
                     "(e.g. notifications.channels.webhook.WebhookBackend with NOTIFICATION_WEBHOOK_URL).",
                id="notifications.W002"))
    return out


@register(Tags.compatibility, deploy=True)
def notification_channels_without_gateway(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """`check --deploy` lists the channels nobody configured a gateway for (not an error: many
    deployments notify by e-mail and phone calls recorded by the engineer)."""
    out: list[Any] = []
    missing = [channel for channel, path in settings.NOTIFICATION_BACKENDS.items() if not path]
    if missing:
        out.append(Info(
            f"No gateway is configured for: {', '.join(missing)}. Notices on these channels are "
            "recorded as not delivered and the emergency notice moves on to the next channel.",
            hint="NOTIFY_SMS_BACKEND, NOTIFY_PHONE_BACKEND, NOTIFY_PAGER_BACKEND, NOTIFY_FAX_BACKEND",
            id="notifications.I001"))
    return out
