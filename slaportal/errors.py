"""One domain error type for every refused action (STYLE.md: services refuse, views translate).

Views turn it into a form error; the API into 400 (bad input, with field errors) or 409
(a state conflict such as an illegal transition)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused action with a translated message and optional per-field errors."""

    status = 400

    def __init__(self, message: Any, *, field_errors: dict[str, list[Any]] | None = None,
                 code: str = "invalid") -> None:
        super().__init__(str(message))
        self.message = message
        self.field_errors = field_errors or {}
        self.code = code


class ConflictError(DomainError):
    """The object is not in a state that allows the action (409 in the API)."""

    status = 409

    def __init__(self, message: Any, **kwargs: Any) -> None:
        kwargs.setdefault("code", "conflict")
        super().__init__(message, **kwargs)


class ForbiddenError(DomainError):
    """The actor's role does not allow the action (403 in the API; staff only, never a tenant
    question: another customer's object is a 404 from the scoped queryset before this)."""

    status = 403

    def __init__(self, message: Any, **kwargs: Any) -> None:
        kwargs.setdefault("code", "forbidden")
        super().__init__(message, **kwargs)
