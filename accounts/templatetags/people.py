"""{{ user|person }}: a staff member or user by full name, falling back to the login name
(accounts.people.person_name). Anything else (a contact, a name already) is shown as it is;
no one is shown as ''. Use with |default: for a placeholder: {{ c.specialist|person|default:"—" }}."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.people import person_name

register = template.Library()


@register.filter
def person(user: Any) -> str:
    return person_name(user)
