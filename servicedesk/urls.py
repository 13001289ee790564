from django.urls import path

from . import views

app_name = "servicedesk"
urlpatterns = [
    path("", views.request_list_view, name="list"),
    path("new/", views.request_create, name="create"),
    path("manager/", views.manager_page, name="manager"),
    path("mailbox/", views.mailbox_page, name="mailbox"),
    path("mailbox/<int:mail_pk>/", views.mailbox_action, name="mailbox_action"),
    path("<int:pk>/", views.request_detail, name="detail"),
    *[path(f"<int:pk>/{action}/", views.request_transition, {"action": action}, name=action)
      for action in views.TRANSITIONS],
    path("<int:pk>/replies/", views.reply_create, name="reply"),
    path("<int:pk>/notes/", views.note_create, name="note"),
    path("<int:pk>/changes/", views.change_create, name="change_create"),
    path("<int:pk>/changes/<int:change_pk>/apply/", views.change_apply, name="change_apply"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download,
         name="attachment_download"),
]
