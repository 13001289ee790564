from django.urls import path

from . import guarantee, views
from .ingest import DeliveryLogApi

urlpatterns: list = [
    path("mail/delivery-log/", DeliveryLogApi.as_view(), name="api-mail-delivery-log"),
    # Figures and the staff records behind them (mailservice/api/views.py)
    path("mail/services/<int:pk>/figures/", views.ServiceFiguresApi.as_view(), name="api-mail-service-figures"),
    path("mail/platforms/", views.PlatformCollectionApi.as_view(), name="api-mail-platform-list"),
    path("mail/platforms/<int:pk>/", views.PlatformDetailApi.as_view(), name="api-mail-platform-detail"),
    path("mail/domains/", views.DomainCollectionApi.as_view(), name="api-mail-domain-list"),
    path("mail/domains/<int:pk>/", views.DomainDetailApi.as_view(), name="api-mail-domain-detail"),
    path("mail/platform-events/", views.EventCollectionApi.as_view(), name="api-mail-platform-event-list"),
    path("mail/platform-events/<int:pk>/", views.EventDetailApi.as_view(), name="api-mail-platform-event-detail"),
    path("mail/platform-events/<int:pk>/end/", views.EventEndApi.as_view(), name="api-mail-platform-event-end"),
    path("mail/billing-figures/", views.BillingCollectionApi.as_view(), name="api-mail-billing-figure-list"),
    path("mail/billing-figures/<int:pk>/", views.BillingDetailApi.as_view(), name="api-mail-billing-figure-detail"),
    # Backups, anti-virus and locked accounts (seed 002 §5, §7; mailservice/api/guarantee.py)
    path("mail/reports/backup-runs/", guarantee.BackupReportApi.as_view(), name="api-mail-report-backup-run"),
    path("mail/reports/signature-updates/", guarantee.SignatureReportApi.as_view(),
         name="api-mail-report-signature-update"),
    path("mail/backup-runs/", guarantee.BackupRunCollectionApi.as_view(), name="api-mail-backup-run-list"),
    path("mail/signature-updates/", guarantee.SignatureCollectionApi.as_view(), name="api-mail-signature-update-list"),
    path("mail/guarantee-queue/", guarantee.QueueApi.as_view(), name="api-mail-guarantee-queue"),
    path("mail/locked-accounts/", guarantee.LockedAccountCollectionApi.as_view(), name="api-mail-locked-account-list"),
    path("mail/locked-accounts/<int:pk>/", guarantee.LockedAccountDetailApi.as_view(),
         name="api-mail-locked-account-detail"),
    path("mail/locked-accounts/<int:pk>/delete/", guarantee.LockedAccountDeleteApi.as_view(),
         name="api-mail-locked-account-delete"),
    path("mail/services/<int:pk>/guarantee/", guarantee.ServiceGuaranteeApi.as_view(),
         name="api-mail-service-guarantee"),
]
