"""API tokens, kept as digests: the key itself is shown once, when it is made, and never stored
(a copy of the database, a backup or an administrator's screen gives no usable key)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """One user's API token (``Authorization: Token <key>``): the SHA-256 of the key, and its
    first characters so that its owner and the administrators can tell which one it is."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="api_token",
    )
    digest = models.CharField(_("摘要"), max_length=64, unique=True, editable=False)
    hint = models.CharField(_("开头"), max_length=8, editable=False)
    created = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.hint}…"
