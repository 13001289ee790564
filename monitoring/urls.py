from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.target_list_view, name="list"),
    path("new/", views.target_create, name="create"),
    path("<int:pk>/", views.target_detail, name="detail"),
    path("<int:pk>/edit/", views.target_edit, name="edit"),
    path("status/", views.status_page, name="status"),
    path("mailboxes/", views.mailbox_list_view, name="mailbox-list"),
    path("mailboxes/new/", views.mailbox_create, name="mailbox-create"),
    path("mailboxes/<int:pk>/", views.mailbox_detail, name="mailbox-detail"),
    path("mailboxes/<int:pk>/edit/", views.mailbox_edit, name="mailbox-edit"),
]
