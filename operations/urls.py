from django.urls import path

from . import views

app_name = "operations"
urlpatterns = [
    path("", views.operation_list_view, name="list"),
    path("new/", views.operation_create_view, name="create"),
    path("<int:pk>/", views.operation_detail, name="detail"),
    path("<int:pk>/phone-authorization/", views.phone_authorization, name="phone"),
    path("<int:pk>/authorizations/<int:auth_pk>/file/", views.authorization_file, name="auth_file"),
    path("<int:pk>/authorizations/<int:auth_pk>/accept/", views.authorization_decide,
         {"action": "accept"}, name="auth_accept"),
    path("<int:pk>/authorizations/<int:auth_pk>/reject/", views.authorization_decide,
         {"action": "reject"}, name="auth_reject"),
    path("<int:pk>/reports/<int:report_pk>/pdf/", views.report_pdf, name="report_pdf"),
    *[path(f"<int:pk>/{name}/", views.operation_action, {"action": name}, name=name)
      for name in views.ACTIONS],
]
