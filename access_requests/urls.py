from django.urls import path

from . import views

app_name = "access_requests"
urlpatterns = [
    path("", views.visit_list_view, name="list"),
    path("new/", views.visit_book_view, name="book"),
    path("schedule/", views.schedule_view, name="schedule"),
    path("door/", views.door_view, name="door"),
    path("log.csv", views.log_csv, name="log_csv"),
    path("log.pdf", views.log_pdf, name="log_pdf"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/approve/", views.visit_approve, name="approve"),
    path("<int:pk>/decline/", views.visit_decline, name="decline"),
    path("<int:pk>/cancel/", views.visit_cancel, name="cancel"),
    path("<int:pk>/escort/", views.visit_escort, name="escort"),
    path("<int:pk>/change/", views.visit_change, name="change"),
    path("<int:pk>/close/", views.visit_close, name="close"),
    path("<int:pk>/door/", views.door_visit, name="door_visit"),
    path("<int:pk>/door/check-in/", views.door_check_in, name="check_in"),
    path("<int:pk>/door/check-out/", views.door_check_out, name="check_out"),
]
