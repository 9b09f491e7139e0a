"""Per-user API tokens (DRF's authtoken: one per user, sent as ``Authorization: Token <key>``).

A user makes their own on the 接口令牌 page (or ``POST /api/token/``) and revokes it there;
administrators see, add and delete anyone's in the admin. Making a new one replaces the old,
so a leaked key is dealt with by making a new one. A token acts as its user exactly: the same
scope and rules, and an inactive user's token stops working."""

from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def issue(user) -> Token:
    """A new token for ``user``; any earlier one stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def revoke(user) -> bool:
    """Delete ``user``'s token; whether there was one."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return bool(deleted)


def current(user) -> Token | None:
    return Token.objects.filter(user=user).first()
