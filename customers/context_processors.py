from typing import Any

from django.http import HttpRequest

from .selectors import user_customer_id, user_roles


def roles(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    r = user_roles(user)
    return {
        "user_roles": r,
        "is_portal_staff": bool(getattr(user, "is_authenticated", False) and (user.is_superuser or r)),
        "is_manager": bool(getattr(user, "is_superuser", False) or "manager" in r),
        "portal_customer_id": user_customer_id(user),
    }
