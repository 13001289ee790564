from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("auth/tokens/", views.TokenCollectionApi.as_view(), name="api-token-list"),
    path("auth/tokens/<int:pk>/", views.TokenDetailApi.as_view(), name="api-token-detail"),
    path("auth/tokens/<int:pk>/revoke/", views.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("auth/lockouts/", views.LockoutCollectionApi.as_view(), name="api-lockout-list"),
    path("auth/lockouts/lift/", views.LockoutLiftApi.as_view(), name="api-lockout-lift"),
]
