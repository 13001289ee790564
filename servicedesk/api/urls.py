from django.urls import path

from . import views

urlpatterns = [
    path("service-requests/", views.RequestCollectionApi.as_view(), name="api-service-request-list"),
    path("service-requests/<int:pk>/", views.RequestDetailApi.as_view(), name="api-service-request-detail"),
    *[path(f"service-requests/<int:pk>/{op}/", cls.as_view(), name=f"api-service-request-{op}")
      for op, cls in views.TRANSITION_APIS.items()],
    path("service-requests/<int:pk>/replies/", views.ReplyCollectionApi.as_view(),
         name="api-service-request-replies"),
    path("service-requests/<int:pk>/notes/", views.NoteCollectionApi.as_view(),
         name="api-service-request-notes"),
    path("service-requests/<int:pk>/changes/", views.ChangeCollectionApi.as_view(),
         name="api-service-request-changes"),
    path("service-requests/<int:pk>/changes/<int:change_pk>/apply/", views.ChangeApplyApi.as_view(),
         name="api-service-request-change-apply"),
]
