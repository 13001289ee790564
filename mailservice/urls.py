from django.urls import path

from . import guarantee_views, views

app_name = "mailservice"

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("services/<int:pk>/domains/new/", views.domain_create, name="domain_create"),
    path("platforms/", views.platform_list, name="platform_list"),
    path("platforms/new/", views.platform_form, name="platform_create"),
    path("platforms/<int:pk>/", views.platform_detail, name="platform_detail"),
    path("platforms/<int:pk>/edit/", views.platform_form, name="platform_edit"),
    path("platforms/<int:pk>/events/new/", views.event_create, name="event_create"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/end/", views.event_end, name="event_end"),
    path("events/<int:pk>/delete/", views.event_delete, name="event_delete"),
    path("billing/", views.billing, name="billing"),
    # Backups, anti-virus and locked accounts (seed 002 §5, §7)
    path("guarantee/", guarantee_views.queue, name="guarantee_queue"),
    path("guarantee/runs/new/", guarantee_views.run_create, name="backup_run_create"),
    path("guarantee/signatures/new/", guarantee_views.signature_create, name="signature_create"),
    path("guarantee/reporters/new/", guarantee_views.reporter_create, name="reporter_create"),
    path("guarantee/accounts/<int:pk>/delete/", guarantee_views.account_delete, name="account_delete"),
    path("services/<int:pk>/guarantee/", guarantee_views.service_guarantee, name="service_guarantee"),
    path("services/<int:pk>/accounts/new/", guarantee_views.account_create, name="account_create"),
]
