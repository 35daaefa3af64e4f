"""Error responses for the whole site: JSON `{"detail": ...}` under /api/, pages elsewhere.

Django answers unknown URLs, refused requests and crashes through these handlers (see
`handler404` etc. in `leaderboard.urls`); DRF answers errors inside its own views with the same
body, so an API client gets JSON whichever layer refused it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(request: HttpRequest, status: int, detail: str, page: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    # Rendered with the request (Django's own 400 view is not), so the page keeps its layout.
    return render(request, page, {"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's text may name settings (DisallowedHost names ALLOWED_HOSTS): say no more
    # than Django would.
    return error_response(request, 400, "Bad request.", "400.html")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        detail = str(exception) or "You do not have permission to perform this action."
        return JsonResponse({"detail": detail}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
