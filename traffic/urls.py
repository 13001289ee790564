from django.urls import path

from . import views

app_name = "traffic"
urlpatterns = [
    path("", views.port_list, name="list"),
    path("new/", views.port_create, name="create"),
    path("<int:pk>/", views.port_detail, name="detail"),
    path("<int:pk>/edit/", views.port_edit, name="edit"),
    path("<int:pk>/data/<str:graph>/", views.port_data, name="data"),
    path("mrtg/", views.mrtg_login, name="mrtg-login"),
    path("mrtg/logout/", views.mrtg_logout, name="mrtg-logout"),
    path("mrtg/ports/", views.mrtg_view, name="mrtg-view"),
    path("mrtg/ports/<int:pk>/", views.mrtg_port, name="mrtg-port"),
    path("mrtg/ports/<int:pk>/data/<str:graph>/", views.mrtg_data, name="mrtg-data"),
]
