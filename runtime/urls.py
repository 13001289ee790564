"""/metrics (no trailing slash, like /healthz) and the staff mailbox of the local mail catcher.
Included at the root: path("", include("runtime.urls"))."""

from django.urls import path

from . import views

app_name = "runtime"
urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("runtime/mailbox/", views.mailbox_list, name="mailbox"),
    # A message name is checked against the catcher's own pattern (runtime.mailcatcher.NAME_RE)
    # before the file system is touched: anything else is a 404.
    path("runtime/mailbox/<str:name>/", views.mailbox_detail, name="mailbox_detail"),
    path("runtime/mailbox/<str:name>/attachments/<int:index>/", views.mailbox_attachment,
         name="mailbox_attachment"),
]
