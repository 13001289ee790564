"""The Celery app. Tasks stay thin: they take ids and call services (see STYLE.md)."""

import os

from celery import Celery
from celery.signals import setup_logging

from slaportal.logging import setup_celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

# The worker and beat log through settings.LOGGING (one format, one clock), not Celery's own.
setup_logging.connect(setup_celery_logging, weak=False)

app = Celery("slaportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
