from django.http import HttpRequest, HttpResponse


def download_filtered(request: HttpRequest, fmt: str) -> HttpResponse:
    raise NotImplementedError


def download_release(request: HttpRequest, version: str, fmt: str) -> HttpResponse:
    raise NotImplementedError
