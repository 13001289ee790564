from django.urls import path

from . import views
from .ingest import DeliveryLogApi

urlpatterns: list = [
    path("mail/delivery-log/", DeliveryLogApi.as_view(), name="api-mail-delivery-log"),
    # Figures and the staff records behind them (mailservice/api/views.py)
    path("mail/services/<int:pk>/figures/", views.ServiceFiguresApi.as_view(), name="api-mail-service-figures"),
    path("mail/platforms/", views.PlatformCollectionApi.as_view(), name="api-mail-platform-list"),
    path("mail/platforms/<int:pk>/", views.PlatformDetailApi.as_view(), name="api-mail-platform-detail"),
    path("mail/domains/", views.DomainCollectionApi.as_view(), name="api-mail-domain-list"),
    path("mail/domains/<int:pk>/", views.DomainDetailApi.as_view(), name="api-mail-domain-detail"),
    path("mail/platform-events/", views.EventCollectionApi.as_view(), name="api-mail-platform-event-list"),
    path("mail/platform-events/<int:pk>/", views.EventDetailApi.as_view(), name="api-mail-platform-event-detail"),
    path("mail/platform-events/<int:pk>/end/", views.EventEndApi.as_view(), name="api-mail-platform-event-end"),
    path("mail/billing-figures/", views.BillingCollectionApi.as_view(), name="api-mail-billing-figure-list"),
    path("mail/billing-figures/<int:pk>/", views.BillingDetailApi.as_view(), name="api-mail-billing-figure-detail"),
]
