from django.urls import path

from . import views

urlpatterns = [
    path("policies/", views.PolicyCollectionApi.as_view(), name="api-policy-list"),
    path("policies/<int:pk>/", views.PolicyDetailApi.as_view(), name="api-policy-detail"),
    path("policy-overrides/", views.PolicyOverrideCollectionApi.as_view(),
         name="api-policy-override-list"),
    path("policy-overrides/<int:pk>/", views.PolicyOverrideDetailApi.as_view(),
         name="api-policy-override-detail"),
    path("workday-overrides/", views.WorkdayOverrideCollectionApi.as_view(),
         name="api-workday-override-list"),
    path("workday-overrides/<int:pk>/", views.WorkdayOverrideDetailApi.as_view(),
         name="api-workday-override-detail"),
    path("clocks/", views.ClockListApi.as_view(), name="api-clock-list"),
    path("clocks/live/", views.ClockLiveApi.as_view(), name="api-clock-live"),
    path("clocks/<int:pk>/", views.ClockDetailApi.as_view(), name="api-clock-detail"),
    path("clocks/<int:pk>/pause/", views.ClockPauseApi.as_view(), name="api-clock-pause"),
    path("clocks/<int:pk>/resume/", views.ClockResumeApi.as_view(), name="api-clock-resume"),
    path("clocks/<int:pk>/cancel/", views.ClockCancelApi.as_view(), name="api-clock-cancel"),
    path("overdue/", views.OverdueListApi.as_view(), name="api-overdue"),
    # The format kwarg makes DRF pick the CSV renderer whatever the Accept header says.
    path("overdue.csv", views.OverdueCsvApi.as_view(), {"format": "csv"}, name="api-overdue-csv"),
]
