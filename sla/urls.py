from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("overdue/", views.overdue, name="overdue"),
    path("overdue.csv", views.overdue_csv, name="overdue_csv"),
    path("breaches/", views.breaches, name="breaches"),
    path("breaches.csv", views.breaches_csv, name="breaches_csv"),
    path("clocks/", views.clock_list_view, name="clock_list"),
    path("clocks/<int:pk>/", views.clock_detail, name="clock_detail"),
    path("policies/", views.policy_list, name="policy_list"),
]
