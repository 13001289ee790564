from django.urls import path

from . import views

urlpatterns = [
    path("switch-ports/", views.SwitchPortCollectionApi.as_view(), name="switchports-api"),
    path("switch-ports/<int:pk>/", views.SwitchPortDetailApi.as_view(), name="switchport-api"),
    path("switch-ports/<int:pk>/traffic/<str:graph>/", views.SwitchPortTrafficApi.as_view(),
         name="switchport-traffic-api"),
]
