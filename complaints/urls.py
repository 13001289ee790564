from django.urls import path

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.complaint_list_view, name="list"),
    path("new/", views.complaint_create, name="create"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    *[path(f"<int:pk>/{action}/", views.complaint_transition, {"action": action}, name=action)
      for action in views.TRANSITIONS],
    path("<int:pk>/reports/new/", views.report_create, name="report_create"),
    path("<int:pk>/reports/<int:report_pk>/correct/", views.report_correct, name="report_correct"),
    path("<int:pk>/reports/<int:report_pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download,
         name="attachment_download"),
]
