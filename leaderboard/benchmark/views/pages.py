from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


browse = release_list = home


def release_detail(request: HttpRequest, version: str) -> HttpResponse:
    raise NotImplementedError


def triple_detail(request: HttpRequest, version: str, uid: str) -> HttpResponse:
    raise NotImplementedError
