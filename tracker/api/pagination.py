"""Pages that never count: a large task table is never read to the end to say how long it is.

Each page is fetched as ``page_size + 1`` rows; the extra row says only whether a next page
exists (the task list page does the same). Offsets follow the list's own order, which always
ends on the primary key, so pages neither repeat nor skip rows of an unchanged list."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class NextPagePagination(BasePagination):
    """``?page=N`` (from 1) and ``?page_size=M`` (at most API_MAX_PAGE_SIZE); the answer has
    ``next`` and ``previous`` links (null at either end) and ``results``, and no count."""

    page_query_param = "page"
    page_size_query_param = "page_size"

    def _int(self, request, name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise NotFound() from None
        if value < 1:
            raise NotFound()
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = min(
            self._int(request, self.page_size_query_param, settings.API_PAGE_SIZE),
            settings.API_MAX_PAGE_SIZE,
        )
        self.page = self._int(request, self.page_query_param, 1)
        offset = (self.page - 1) * self.page_size
        rows = list(queryset[offset : offset + self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        return rows[: self.page_size]

    def _link(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "next": self._link(self.page + 1 if self.has_next else None),
                "previous": self._link(self.page - 1 if self.page > 1 else None),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Items per page (at most API_MAX_PAGE_SIZE).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
