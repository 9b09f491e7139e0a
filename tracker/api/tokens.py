"""Per-user API tokens, sent as ``Authorization: Token <key>`` (one per user).

A user makes their own on the 接口令牌 page (or ``POST /api/token/``) and revokes it there;
administrators see whose tokens exist, make one for a user (the key is shown on the answer
page, once) and delete any in the admin. Making a new one replaces the old, so a leaked key is
dealt with by making a new one. A token acts as its user exactly: the same scope and rules,
and an inactive user's token stops working.

Only the key's SHA-256 is stored (``tracker.models.ApiToken``): the key is random (160 bits),
so a plain digest suffices, and looking it up is one indexed query."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from tracker.models import ApiToken


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue(user) -> ApiToken:
    """A new token for ``user``; any earlier one stops working. The returned row carries the
    key as ``.key``, for this one answer only."""
    ApiToken.objects.filter(user=user).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(user=user, digest=digest_of(key), hint=key[:6])
    token.key = key
    return token


def revoke(user) -> bool:
    """Delete ``user``'s token; whether there was one."""
    deleted, _rows = ApiToken.objects.filter(user=user).delete()
    return bool(deleted)


def current(user) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


class DigestTokenAuthentication(TokenAuthentication):
    """DRF's ``Token`` header scheme, checked against the stored digests."""

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("接口令牌无效。"))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("该用户已停用或已被删除。"))
        return token.user, token
