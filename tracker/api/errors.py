"""How a refused change answers, the same refusals as the task page's:

- a task (or inspection) outside the user's scope: 404, exactly as for a missing one;
- ``actions.NotAllowed`` (may see, may not make this change): 403;
- ``actions.StaleTask``: 412 when the version came in ``If-Match``, 409 when in the body's
  ``version`` field; the answer carries the task's current ``version``;
- no version at all on a write: 428 (a write is always checked against what the client saw);
- any other ``actions.ActionError`` (the rule refuses: not done yet, no pending request…) and
  invalid input: 400.
Every message is the actions' own, translated in the request's language; a 404 says DRF's
"未找到。" ("Not found."), never the English text of Django's ``Http404`` (get_object_or_404's
"No Task matches the given query.", a view's note for developers).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class Refused(exceptions.APIException):
    """The rules refuse the change (``actions.ActionError``)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"


class StaleVersion(exceptions.APIException):
    """The task changed since the client read it (body ``version``)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"

    def __init__(self, detail, version: int):
        super().__init__(detail)
        self.version = version


class PreconditionFailed(StaleVersion):
    """The task changed since the client read it (``If-Match``)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = _("请在 If-Match 请求头或 version 字段中提供任务的版本号。")


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError (raised by the evidence checks) as 400 and
    the current version on a stale write; a 404 with DRF's translated message."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"files": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, StaleVersion):
        response.data["version"] = exc.version
    return response
