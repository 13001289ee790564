from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("credits.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("complaints.api.urls")),
    path("", include("access_requests.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("operations.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("settlement.api.urls")),
    path("", include("mailservice.api.urls")),
    path("", include("abuse.api.urls")),
    path("", include("traffic.api.urls")),
    path("", include("servicedesk.api.urls")),
    path("", include("search.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on their own (before or without reading the page's icon link).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("", include("runtime.urls")),
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("sla/", include("sla.urls")),
    path("credits/", include("credits.urls")),
    path("notifications/", include("notifications.urls")),
    path("complaints/", include("complaints.urls")),
    path("visits/", include("access_requests.urls")),
    path("incidents/", include("incidents.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("operations/", include("operations.urls")),
    path("orders/", include("orders.urls")),
    path("settlement/", include("settlement.urls")),
    path("mail/", include("mailservice.urls")),
    path("abuse/", include("abuse.urls")),
    path("traffic/", include("traffic.urls")),
    path("servicedesk/", include("servicedesk.urls")),
    path("search/", include("search.urls")),
    path("api/", include(api_patterns)),
]

# Uploaded files and reports are never served from MEDIA_URL: only through views that scope them
# to the requesting user (another customer's file is a 404), even with DEBUG on.

# Under /api/ a URL that matches no route, a request refused before any view, and a server error
# answer with the API's error body (slaportal.api); pages keep Django's.
handler400 = "slaportal.api.bad_request"
handler403 = "slaportal.api.permission_denied"
handler404 = "slaportal.api.not_found"
handler500 = "slaportal.api.server_error"
