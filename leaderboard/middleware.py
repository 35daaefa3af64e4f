"""Refuses request input the database cannot store before any view sees it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse

from leaderboard.errors import error_response

# PostgreSQL text cannot hold NUL: a NUL that reaches a query raises inside the driver (a 500).
# Every other character Django can decode from UTF-8 is storable.
UNSTORABLE = "\x00"


def _unstorable(texts: Iterable[str]) -> bool:
    return any(UNSTORABLE in text for text in texts)


def _request_texts(request: HttpRequest) -> Iterable[str]:
    """The decoded input a view may put into a query: path, query string and cookies.
    Form bodies are left to the forms and serializers, whose fields already refuse NUL."""
    yield request.path
    for key, values in request.GET.lists():
        yield key
        yield from values
    for key, value in request.COOKIES.items():
        yield key
        yield value


class RejectUnstorableInput:
    """One check for every route (pages, API, admin, static files) instead of one per view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _unstorable(_request_texts(request)):
            detail = "The request holds a NUL character (%00), which is refused."
            return error_response(request, 400, detail, "400.html")
        return self.get_response(request)
