from django.apps import AppConfig


class AccessRequestsConfig(AppConfig):
    name = "access_requests"
