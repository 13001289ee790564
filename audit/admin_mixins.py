"""What every editable admin page shares (a module of its own because every app's admin.py uses
it, and it belongs with the audit trail it feeds):

- every write goes through a service, which validates, saves and appends the audit row with the
  changed fields' old and new values in one transaction: ``save_model``, ``save_formset`` (inline
  rows), ``delete_model`` and ``delete_queryset`` (the bulk "delete selected" action) never call
  ``Model.save()``/``delete()`` themselves;
- a deletion is either refused (``delete_refusal``: the row is evidence) or audited with the
  deleted row's values;
- a service that refuses (``DomainError``) gives the page back with the message as a form error,
  never a 500, and nothing is written: the admin's own transaction is rolled back and the form is
  validated again with the refusal added to it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from slaportal.errors import ConflictError, DomainError

from .services import audited_delete, audited_save

_REFUSAL = "_admin_service_refusal"


def locked_row(obj: models.Model) -> models.Model:
    """The stored row (locked until the admin's transaction ends): the admin's form has already
    written the new values into its own instance, and the audit row needs the old ones."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def _copy_into(saved: models.Model, obj: models.Model) -> None:
    """Make the admin's instance the saved row (the id of a new row, values a service computed)."""
    for f in saved._meta.concrete_fields:
        setattr(obj, f.attname, getattr(saved, f.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def _form_data(form: Any, model: type[models.Model]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The model fields a form edits, and their cleaned values."""
    names = {f.name for f in model._meta.concrete_fields if not f.primary_key}
    fields = tuple(n for n in form.fields if n in names and n in form.cleaned_data)
    return fields, {n: form.cleaned_data[n] for n in fields}


def _describe(refusal: DomainError) -> str:
    parts = [str(m) for msgs in refusal.field_errors.values() for m in msgs]
    return " ".join(parts) if parts else str(refusal.message)


class ServiceInlineMixin:
    """For inline rows: ``service_save`` creates (original None) or changes a row of the parent;
    ``service_delete`` deletes one. The defaults are the generic audited save and delete."""

    model: type[models.Model]

    def service_save(self, request: HttpRequest, *, original: models.Model | None, form: Any,
                     parent: models.Model) -> models.Model:
        fields, data = _form_data(form, self.model)
        obj = original or self.model()
        setattr(obj, self._parent_field(), parent)
        audited_save(obj=obj, fields=fields, data=data, actor=request.user)
        return obj

    def service_delete(self, request: HttpRequest, *, obj: models.Model) -> None:
        audited_delete(obj=obj, actor=request.user, reason="deleted in admin")

    def delete_refusal(self, obj: models.Model) -> str | None:
        """Why this row must not be deleted (it is evidence), or None."""
        return None

    def _parent_field(self) -> str:
        from django.forms.models import _get_foreign_key

        inline: Any = self
        return str(_get_foreign_key(inline.parent_model, self.model, fk_name=inline.fk_name).name)


class ServiceModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Base of every admin that can change rows. Subclasses override ``service_save`` (and
    ``service_delete``/``delete_refusal``) to call their app's services; the defaults are the
    generic audited save and delete of ``audit.services``."""

    # --- hooks -----------------------------------------------------------------------------

    def service_save(self, request: HttpRequest, *, original: models.Model | None,
                     form: Any) -> models.Model:
        """Create (original is None) or change `original` from ``form.cleaned_data``."""
        fields, data = _form_data(form, self.model)
        obj = original or self.model()
        audited_save(obj=obj, fields=fields, data=data, actor=request.user)
        return obj

    def service_delete(self, request: HttpRequest, *, obj: models.Model) -> None:
        audited_delete(obj=obj, actor=request.user, reason="deleted in admin")

    def delete_refusal(self, obj: models.Model) -> str | None:
        """Why this row must not be deleted (it is evidence), or None."""
        return None

    # --- saving ----------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = self.service_save(request, original=locked_row(obj) if change else None, form=form)
        _copy_into(saved, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        inline = next((i for i in self.get_inline_instances(request, form.instance)
                       if i.model is formset.model), None)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for f in formset.forms:
            deleting = formset.can_delete and formset._should_delete_form(f)
            existing = f.instance.pk is not None and not f.instance._state.adding
            if not (deleting and existing) and (deleting or not f.has_changed()):
                continue
            if not isinstance(inline, ServiceInlineMixin):
                raise ImproperlyConfigured(f"{type(inline).__name__} writes without a service")
            try:
                if deleting:
                    row = locked_row(f.instance)
                    self._refuse_deletion(row, inline)
                    inline.service_delete(request, obj=row)
                    formset.deleted_objects.append(f.instance)
                elif existing:
                    saved = inline.service_save(request, original=locked_row(f.instance), form=f,
                                                parent=form.instance)
                    _copy_into(saved, f.instance)
                    formset.changed_objects.append((f.instance, f.changed_data))
                else:
                    saved = inline.service_save(request, original=None, form=f, parent=form.instance)
                    _copy_into(saved, f.instance)
                    formset.new_objects.append(f.instance)
            except DomainError as e:
                # Shown on the main form: name the inline row it is about.
                raise DomainError(f"{formset.model._meta.verbose_name} “{f.instance}”: {_describe(e)}") from e

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as e:
            if request.method != "POST" or hasattr(request, _REFUSAL):
                raise
            # Everything the first pass wrote is rolled back with the admin's transaction; the
            # second pass validates the same input again, now with the refusal as its errors.
            setattr(request, _REFUSAL, e)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        found: DomainError | None = getattr(request, _REFUSAL, None)
        if found is None:
            return form
        refusal: DomainError = found

        class RefusedForm(form):  # type: ignore[valid-type,misc]
            def clean(self) -> Any:
                data = super().clean()
                placed = False
                for name, msgs in refusal.field_errors.items():
                    for m in msgs:
                        if name in self.fields and name not in self._errors:
                            self.add_error(name, m)
                        elif name == NON_FIELD_ERRORS or name in self.fields:
                            self.add_error(None, m)
                        else:
                            self.add_error(None, f"{name}: {m}")
                        placed = True
                if not placed:
                    self.add_error(None, str(refusal.message))
                return data

        RefusedForm.__name__ = form.__name__
        return RefusedForm

    # --- deleting --------------------------------------------------------------------------

    def _refuse_deletion(self, obj: models.Model, owner: Any = None) -> None:
        reason = (owner or self).delete_refusal(obj)
        if reason:
            raise ConflictError(reason)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        row = locked_row(obj)
        self._refuse_deletion(row)
        self.service_delete(request, obj=row)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # All or nothing: one refusal leaves every selected row in place.
        with transaction.atomic(using=router.db_for_write(self.model)):
            # Locked by id: the changelist's queryset may join nullable relations, which
            # PostgreSQL cannot lock.
            for obj in self.model._default_manager.select_for_update().filter(
                    pk__in=list(queryset.values_list("pk", flat=True))):
                self._refuse_deletion(obj)
                self.service_delete(request, obj=obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refused = []
        for obj in objs:
            reason = self.delete_refusal(obj)
            if reason:
                refused.append(f"{obj._meta.verbose_name} “{obj}”: {reason}")
        if refused:
            # Shown as the reason the deletion cannot happen (the page shows missing permissions
            # instead of protected rows when there are any; the refusal is the clearer message).
            return deleted, counts, set(), [*refused, *protected]
        return deleted, counts, perms_needed, protected

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as e:
            self.message_user(request, _describe(e), messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                                                args=[object_id], current_app=self.admin_site.name))

    def response_action(self, request: HttpRequest, queryset: Any, *args: Any,
                        **kwargs: Any) -> HttpResponse | None:
        try:
            return super().response_action(request, queryset, *args, **kwargs)
        except DomainError as e:
            self.message_user(request, _describe(e), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Evidence: viewable, never added, changed or deleted in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
