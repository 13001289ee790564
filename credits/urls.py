from django.urls import path

from . import views

app_name = "credits"
urlpatterns = [
    path("", views.credit_list_view, name="list"),
    path("new/", views.credit_create, name="create"),
    path("apply/", views.credit_bulk_apply, name="bulk_apply"),
    path("export.csv", views.credit_export_csv, name="export_csv"),
    path("<int:pk>/", views.credit_detail, name="detail"),
    path("<int:pk>/approve/", views.credit_decide, {"action": "approve"}, name="approve"),
    path("<int:pk>/reject/", views.credit_decide, {"action": "reject"}, name="reject"),
    path("<int:pk>/apply/", views.credit_decide, {"action": "apply"}, name="apply"),
    path("<int:pk>/reverse/", views.credit_reverse, name="reverse"),
]
