"""API plumbing shared by every app: the one error body and the exception handler that
produces it, the schema class that documents it on every operation, pagination and filters
that refuse bad query values with a 400, the permission classes, the scoped reference field.

A route is a plural noun; each HTTP method on it is one operation with its own input and output
serializers (HackSoft). Reads come from selectors scoped by request.user, so another customer's
object is a 404 from the queryset, never a 403. Writes go through services; a refused write
raises DomainError, which the handler below turns into 400/403/409.

Every error the API answers with has the same JSON body (`ErrorSerializer`):
`{"detail": "<message>", "code": "<machine code>"}` and, on a 400, `"errors"`: one list of
messages per field (a nested field is named by its path, `visitors.0.name`; errors that belong
to no field are under `non_field_errors`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Generic, TypeVar, cast

import django_filters
from django import forms
from django.core.exceptions import (
    FieldDoesNotExist,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults as django_defaults
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.relations import PKOnlyObject
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff

from .api_query import ID_MAX
from .errors import DomainError

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


# --- The error body -------------------------------------------------------------------------

class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error body of every API response with a 4xx/5xx status: a message, a machine code
    and, for 400, one list of messages per field."""

    detail = serializers.CharField(help_text="What went wrong, in the user's language.")
    code = serializers.CharField(
        help_text="A stable machine code, e.g. invalid, parse_error, not_authenticated, "
                  "authentication_failed, permission_denied, forbidden, not_found, conflict, "
                  "method_not_allowed, not_acceptable, unsupported_media_type, throttled.")
    # DRF's metaclass takes declared fields off the class, so this does not hide Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="400 only: one list of messages per field; a nested field is named by its "
                  f"path (visitors.0.name), errors of no single field are under {NON_FIELD}.")


# The name the apps' views use in their schema declarations.
DetailSerializer = ErrorSerializer


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF/Django error details (nested dicts and lists) as {"field.path": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = NON_FIELD if key in ("__all__", NON_FIELD) and not prefix else str(key)
            for k, v in flatten_errors(value, f"{prefix}.{name}" if prefix else name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, (list, tuple)):
        for i, item in enumerate(detail):
            if isinstance(item, (Mapping, list, tuple)):
                if item:  # an empty dict: that item of a list had no errors
                    for k, v in flatten_errors(item, f"{prefix}.{i}" if prefix else str(i)).items():
                        out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or NON_FIELD, []).append(str(item))
    elif detail is not None:
        out.setdefault(prefix or NON_FIELD, []).append(str(detail))
    return out


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return flatten_errors({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
    return {NON_FIELD: [str(m) for m in exc.messages]}


def error_body(*, detail: Any, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": str(detail), "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def _invalid_detail(errors: dict[str, list[str]]) -> str:
    """The headline of a 400: the message of an error that belongs to no field, if there is
    one; otherwise DRF's (translated) "Invalid input."."""
    for message in errors.get(NON_FIELD, []):
        return message
    return str(exceptions.ValidationError.default_detail)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else str(exc.default_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal as the one error body. Anything else (a bug) is left to Django: a 500,
    logged with its traceback, answered by `server_error` below."""
    if isinstance(exc, DomainError):
        errors = flatten_errors({k: [str(m) for m in v] for k, v in exc.field_errors.items()})
        response = Response(error_body(detail=exc.message, code=exc.code,
                                       errors=errors if (errors or exc.status == 400) else None),
                            status=exc.status)
        set_rollback()
    elif isinstance(exc, RequestDataTooBig):
        # A body past DATA_UPLOAD_MAX_MEMORY_SIZE: Django would answer its HTML 400 page.
        response = Response(error_body(detail=_("The request is too large."), code="too_large"),
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, SuspiciousOperation):  # e.g. too many fields; the message is internal
        response = Response(error_body(detail=_("Bad request."), code="bad_request", errors={}),
                            status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, DjangoValidationError):
        errors = _django_errors(exc)
        response = Response(error_body(detail=_invalid_detail(errors), code="invalid", errors=errors),
                            status=status.HTTP_400_BAD_REQUEST)
        set_rollback()
    else:
        if isinstance(exc, Http404):
            # Django's message names the model ("No Complaint matches the given query."): say
            # only that it is not there, in the user's language.
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(*(exc.args or ()))
        handled = drf_exception_handler(exc, context)
        if handled is None:
            return None
        response = handled
        assert isinstance(exc, exceptions.APIException)
        if isinstance(exc, exceptions.ValidationError):
            errors = flatten_errors(exc.detail)
            response.data = error_body(detail=_invalid_detail(errors), code="invalid", errors=errors)
        elif isinstance(exc.detail, (dict, list)):
            errors = flatten_errors(exc.detail)
            response.data = error_body(detail=exc.default_detail, code=str(exc.default_code),
                                       errors=errors if response.status_code == 400 else None)
        else:
            response.data = error_body(detail=exc.detail, code=_code_of(exc),
                                       errors={} if response.status_code == 400 else None)
    _render_as_json(context.get("request"))
    return response


def _render_as_json(request: Request | None) -> None:
    """An error is JSON whatever the endpoint's success type is (a CSV, a PDF, a file): the
    file renderers cannot say what went wrong. The browsable API keeps its HTML page."""
    if request is None:
        return
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or getattr(renderer, "format", None) != "api":
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL under /api/ that matches no route (say /api/clocks/-1/) answers with
    the API's error body, everything else with the site's 404 page."""
    if _is_api(request):
        return JsonResponse(error_body(detail=_("Not found."), code="not_found"), status=404,
                            json_dumps_params={"ensure_ascii": False})
    return django_defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a request Django refuses before any view, e.g. a host not allowed)."""
    if _is_api(request):
        return JsonResponse(error_body(detail=_("Bad request."), code="bad_request", errors={}),
                            status=400, json_dumps_params={"ensure_ascii": False})
    # Not Django's bad_request: it renders with the request, so the context processors would ask
    # request.user for its roles, and a request refused before the authentication middleware
    # (a host not allowed) has none. 400.html needs no request, no database.
    return HttpResponseBadRequest(loader.get_template("400.html").render())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403 (PermissionDenied outside a DRF view)."""
    if _is_api(request):
        return JsonResponse(error_body(detail=exceptions.PermissionDenied.default_detail,
                                       code="permission_denied"),
                            status=403, json_dumps_params={"ensure_ascii": False})
    return django_defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API's error body under /api/, the site's 500 page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(detail=_("A server error occurred."), code="server_error"),
                            status=500, json_dumps_params={"ensure_ascii": False})
    return django_defaults.server_error(request)


# --- Query parameters -----------------------------------------------------------------------

@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.NumberFilter):
    """An object id in a query: a whole number from 1 within the id range, else a 400 (a
    NumberFilter would take 1.5 as 1 and a 30-digit number as a query for nothing)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 9999})
class YearFilter(django_filters.NumberFilter):
    """A calendar year, 1 to 9999 (a date lookup on year 10000 cannot be built: it was a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 9999)
        super().__init__(*args, **kwargs)


class IdField(serializers.IntegerField):
    """An object id in a query serializer: a whole number from 1 within the id range."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


# The dates a query may name: wide enough for any real question, narrow enough that a day's
# start and end in Asia/Shanghai (and the day after) can be computed and stored.
QUERY_DATE_MIN = date(1900, 1, 1)
QUERY_DATE_MAX = date(9998, 12, 31)


class QueryDateField(serializers.DateField):
    """A date (YYYY-MM-DD) in a query, between 1900-01-01 and 9998-12-31."""

    def to_internal_value(self, value: Any) -> date:
        d: date = super().to_internal_value(value)
        if not QUERY_DATE_MIN <= d <= QUERY_DATE_MAX:
            raise serializers.ValidationError(
                _("Give a date between %(min)s and %(max)s.")
                % {"min": QUERY_DATE_MIN.isoformat(), "max": QUERY_DATE_MAX.isoformat()},
                code="out_of_range")
        return d


def check_date_range(attrs: dict[str, Any], *, start: str = "date_from", end: str = "date_to") -> dict[str, Any]:
    """validate() of a query with a date range: the end is not before the start."""
    if attrs.get(start) and attrs.get(end) and attrs[end] < attrs[start]:
        raise serializers.ValidationError({end: [_("The end date is before the start date.")]})
    return attrs


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, True/False); empty means "not filtered"; anything else is an error
    (django-filter's boolean silently ignores `?active=maybe`)."""

    TRUE = frozenset({"true", "True", "1"})
    FALSE = frozenset({"false", "False", "0"})
    default_error_messages = {"invalid": gettext_lazy("Enter true or false.")}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        if value in self.TRUE:
            return True
        if value in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """The project's FilterSet: model booleans and foreign keys named in Meta.fields get the
    strict filters above."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


# --- The schema ------------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "Bad input: `errors` holds one list of messages per field (query parameter or body field).",
    401: "Not signed in: no token or session, or the token is invalid or has expired.",
    403: "Signed in, but the role does not allow this.",
    404: "No such object in your scope (another customer's object is a 404 as well).",
    409: "The object's state does not allow this; nothing changed.",
    413: "The request body is too large (DATA_UPLOAD_MAX_MEMORY_SIZE, MAX_UPLOAD_BYTES for a file).",
    429: "Too many requests: retry after the number of seconds in Retry-After.",
}


def _blank_choice(model: type[models.Model], field: Any) -> bool:
    """Whether a serializer field is a model field with choices that may be blank."""
    if not field.source or field.source == "*" or "." in field.source:
        return False
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return False
    return bool(getattr(model_field, "choices", None)) and bool(getattr(model_field, "blank", False)) \
        and not getattr(field, "allow_blank", False)


class AutoSchema(SpectacularAutoSchema):
    """Documents the error responses every operation can give, with the one error body: 400
    where the operation reads query parameters or a body, 413 where it reads a body, 401 and 403
    where it needs a signed-in user, 404 where the path names an object, 409 where it changes
    one, 429 where it is throttled. Responses a view declares itself keep their description; an error response that
    names no other body gets the error body. Integer path parameters are ids (1 to 2^63-1)."""

    def _map_basic_serializer(self, serializer: Any, direction: str) -> Any:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response":
            # An e-mail address or a URL a response carries may be empty ("" = none on file),
            # which the formats call invalid. Requests keep them: input is checked against them.
            serializer = force_instance(serializer)
            fields = serializer.fields
            model = getattr(getattr(serializer, "Meta", None), "model", None)
            props = schema.get("properties", {})
            for name, prop in list(props.items()):
                field = fields.get(name)
                if (isinstance(field, (serializers.EmailField, serializers.URLField))
                        and prop.get("format") in ("email", "uri")):
                    del prop["format"]
                # A model choice with blank=True may be "" (no value yet); DRF drops allow_blank
                # from read-only fields, so the enum alone would call "" invalid.
                if model is not None and isinstance(field, serializers.ChoiceField) and _blank_choice(model, field):
                    meta = {k: prop[k] for k in ("readOnly", "title", "description", "nullable") if k in prop}
                    core = {k: v for k, v in prop.items() if k not in meta}
                    if list(core) == ["allOf"] and len(core["allOf"]) == 1:
                        core = core["allOf"][0]
                    props[name] = {"oneOf": [core, {"type": "string", "enum": [""]}], **meta}
        return schema

    def _requires_user(self) -> bool:
        classes = list(getattr(self.view, "permission_classes", []) or [])
        return bool(classes) and not any(c is AllowAny for c in classes)

    def _error_statuses(self, operation: dict[str, Any]) -> set[int]:
        params = operation.get("parameters", [])
        codes: set[int] = set()
        if "requestBody" in operation or any(p["in"] == "query" for p in params):
            codes.add(400)
        if "requestBody" in operation:
            codes.add(413)
        if self._requires_user():
            codes |= {401, 403}
        has_path_object = any(p["in"] == "path" for p in params)
        if has_path_object:
            codes.add(404)
            if self.method in ("POST", "PUT", "PATCH", "DELETE"):
                codes.add(409)
        if self.view.get_throttles():
            codes.add(429)
        return codes

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for p in operation.get("parameters", []):
            if p["in"] == "path" and p.get("schema", {}).get("type") == "integer":
                p["schema"].setdefault("minimum", 1)
                p["schema"].setdefault("maximum", ID_MAX)
        responses = operation["responses"]
        component = self.resolve_serializer(ErrorSerializer(), "response")
        error_ref = component.ref
        for code in sorted(self._error_statuses(operation)):
            responses.setdefault(str(code), {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if not code.isdigit() or int(code) < 400:
                continue
            schemas = [c.get("schema") for c in response.get("content", {}).values()]
            # Errors are always JSON (exception_handler), whatever the success type is.
            if all(s == error_ref for s in schemas):
                response["content"] = {"application/json": {"schema": error_ref}}
            if not response.get("description"):
                response["description"] = ERROR_DESCRIPTIONS.get(int(code), "")
        return operation


class FileDownloadMixin:
    """For a view whose success is a file it builds itself (slaportal.downloads), not a body a
    renderer draws: no content negotiation, so any Accept header gets the file (DRF would answer
    406 to `Accept: image/png` for lack of a PNG renderer), and an error is the JSON error body."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[Any, str]:
        return JSONRenderer(), JSONRenderer.media_type


# The types an uploaded file can have (checked by content, slaportal.uploads), for the schema of
# a download.
UPLOADED_FILE_RESPONSES = {(200, mime): OpenApiTypes.BINARY
                           for mime in ("application/pdf", "image/png", "image/jpeg")}


M = TypeVar("M", bound=models.Model)


def get_scoped_or_404(qs: models.QuerySet[M], **lookup: Any) -> M:
    """One object of an already scoped queryset; anything outside the scope is a 404."""
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


class IsStaff(BasePermission):
    """Any staff role (or a superuser)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_is_staff(request.user)


class IsManager(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has_role(request.user, Role.MANAGER)


class ManagerWrites(BasePermission):
    """Reads for whoever the view's other permissions admit; writes for managers only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or user_has_role(request.user, Role.MANAGER)


class StaffNeedsViewPerm(BasePermission):
    """Least privilege inside the staff: a staff user reads a model only with its view
    permission (roles.py), e.g. data-centre staff do not read contracts or credits. A customer
    user is let through; the scoped queryset limits them to their own customer. With
    `customers_allowed = False` on the view, customer users are refused (403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user_is_staff(user):
            perm = getattr(view, "view_perm", None)
            return perm is None or user.has_perm(perm)
        return getattr(view, "customers_allowed", True) and user_customer_id(user) is not None


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField, Generic[M]):  # type: ignore[type-arg]
    """A reference in a request body, resolved through a selector scoped by the requesting
    user: another customer's id is 'does not exist' (400), exactly like an unknown id."""

    def __init__(self, *, selector: Any, **kwargs: Any) -> None:
        self.selector = selector
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return self.selector(user=getattr(request, "user", None))


# The refusals every write endpoint can answer with, for the OpenAPI schema.
ERRORS = {
    400: OpenApiResponse(DetailSerializer, description="Bad input: one list of messages per field."),
    403: OpenApiResponse(DetailSerializer, description="The role does not allow this."),
}


def validated_input(serializer_class: Any, request: Request, **kwargs: Any) -> dict[str, Any]:
    """Parse a request body with an input serializer; bad input raises DRF's 400 with field errors."""
    s = serializer_class(data=request.data, context={"request": request}, **kwargs)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


class ReasonInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Input of a transition: why (kept in the audit trail)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FastRows:
    """For an output serializer whose fields need no request context (no hyperlinks): its
    fields are built once per process and reused, and each row is turned into a dictionary
    exactly as Serializer.to_representation does (the same fields, values and None handling).

    DRF builds a ModelSerializer's fields anew for every serializer instance (mapping each model
    field, deep-copying the declared ones): a few milliseconds on every list request, as much
    as serialising the 25 rows. Listed before the serializer class in the bases."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        cls = type(self)
        fields = cls.__dict__.get("_fast_rows_fields")
        if fields is None:
            # Built on an unbound instance of the class (no context), kept on this very class
            # (a subclass with more fields builds its own).
            fields = [f for f in cast(Any, cls)().fields.values() if not f.write_only]
            cls._fast_rows_fields = fields  # type: ignore[attr-defined]
        ret: dict[str, Any] = {}
        for field in fields:
            try:
                attribute = field.get_attribute(instance)
            except serializers.SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check is None else field.to_representation(attribute)
        return ret
