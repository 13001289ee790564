from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.target_list_view, name="list"),
    path("new/", views.target_create, name="create"),
    path("<int:pk>/", views.target_detail, name="detail"),
    path("<int:pk>/edit/", views.target_edit, name="edit"),
]
