"""Carry the keys DRF's authtoken app issued over to accounts.ApiToken, so API clients keep working
after the switch, and then delete them from DRF's table, where they were stored in plain text.

An imported key expires API_TOKEN_TTL_HOURS after this migration, like a newly issued one. Raw SQL
and no dependency on the authtoken app: it may already be gone from INSTALLED_APPS (then its
table, if any, is still read)."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def import_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    now = timezone.now()
    expires_at = now + timedelta(hours=float(getattr(settings, "API_TOKEN_TTL_HOURS", 720)))
    for key, user_id in rows:
        key_hash = hashlib.sha256(key.encode("utf-8")).hexdigest()
        if not ApiToken.objects.filter(key_hash=key_hash).exists():
            ApiToken.objects.create(user_id=user_id, name="imported (DRF token)", prefix=key[:8],
                                    key_hash=key_hash, created_at=now, expires_at=expires_at)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(import_drf_tokens, migrations.RunPython.noop),
    ]
