from django.urls import path

from . import views

app_name = "credits"
urlpatterns = [
    path("", views.credit_list_view, name="list"),
    path("<int:pk>/", views.credit_detail, name="detail"),
    path("<int:pk>/approve/", views.credit_decide, {"action": "approve"}, name="approve"),
    path("<int:pk>/reject/", views.credit_decide, {"action": "reject"}, name="reject"),
    path("<int:pk>/apply/", views.credit_decide, {"action": "apply"}, name="apply"),
]
