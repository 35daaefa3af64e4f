"""Whole rendered responses of the views that show boards (page, exports, API), kept per board
version and request, compressed once, answered with conditional GET.

Only anonymous requests are served from here: no session cookie, no messages cookie, no
Authorization header. Those carry nothing per person, so one rendering fits every such
visitor. Signed-in users (a nav bar with their name and a CSRF token in the log-out form,
staff seeing drafts, API tokens) get a rendering of their own, still from the cached board. A
rendering is never kept if it used the CSRF token or set a cookie, whatever the request.

The key is the board version (as read at most BOARD_VERSION_MEMO_MS ago: a warm request then
makes no query) and a hash of the scheme and host (API pages link to them), the path, the
query string with its parameters sorted, and what the view adds (the API's output format). Every encoding
of a body lives in one entry, chosen per request from Accept-Encoding.

A view served through here may show only what the board version covers (scores, models,
releases: see receivers.py); anything else it shows would stay as first rendered.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from leaderboard.boards import cache as board_cache

try:  # brotli is optional: only when the server has it installed
    import brotli  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the installation
    brotli = None

#: headers of the rendering that travel with the cached body
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language")
#: too small to be worth compressing (a header and a few rows)
MIN_COMPRESSED = 512


class RecentResponses:
    """The last few renderings this process served, by versioned key.

    With a shared cache (Redis) a warm request would otherwise fetch and unpickle every
    encoding of its body (a 1,000-model page is ~300 KB plus its gzip copy), about as long as
    the rest of the request; the version in the key keeps this exactly as fresh as the cache.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[str, StoredResponse] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> StoredResponse | None:
        with self.lock:
            value = self.values.get(key)
            if value is not None:
                self.values.move_to_end(key)
            return value

    def put(self, key: str, value: StoredResponse) -> None:
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)


_recent = RecentResponses(size=48)


@dataclass(frozen=True)
class StoredResponse:
    headers: tuple[tuple[str, str], ...]
    #: the body per content coding: "identity" always, "gzip" and "br" when worth it
    bodies: dict[str, bytes]
    #: strong validator of the identity body; each coding has its own (see etag_for)
    digest: str
    built_at: float

    def etag_for(self, coding: str) -> str:
        return f'"{self.digest}"' if coding == "identity" else f'"{self.digest}-{coding}"'


def cacheable(request: HttpRequest) -> bool:
    """Whether this request may get, and give, the shared anonymous rendering."""
    if request.method not in ("GET", "HEAD"):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


def normalised_query(request: HttpRequest) -> str:
    """The query string with its parameters in a stable order (values keep theirs)."""
    return urlencode(sorted(request.GET.lists()), doseq=True)


def request_key(request: HttpRequest, variant: str = "") -> str:
    # Hashed: the host, path and query are the visitor's to choose, and a cache key must stay
    # short whatever they send (memcached refuses keys over 250 bytes; Redis keeps them all).
    where = (request.scheme or "http", request.get_host(), request.path)
    parts = "\n".join((*where, normalised_query(request), variant))
    return f"response|{hashlib.sha256(parts.encode()).hexdigest()}"


def _compressions(body: bytes) -> dict[str, bytes]:
    bodies = {"identity": body}
    if len(body) >= MIN_COMPRESSED:
        bodies["gzip"] = gzip.compress(body, compresslevel=6, mtime=0)
        if brotli is not None:
            bodies["br"] = brotli.compress(body, quality=5)
    return bodies


def storable(request: HttpRequest, response: HttpResponseBase) -> StoredResponse | None:
    """The response as kept, or None where it must not be shared."""
    if not isinstance(response, HttpResponse) or response.status_code != 200:
        return None
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return None  # a CSRF token or a cookie belongs to one visitor
    if response.has_header("Content-Encoding"):
        return None
    body = response.content
    headers = tuple((name, response[name]) for name in KEPT_HEADERS if response.has_header(name))
    return StoredResponse(
        headers=headers,
        bodies=_compressions(body),
        digest=hashlib.sha256(body).hexdigest()[:32],
        built_at=time.time(),
    )


def chosen_coding(request: HttpRequest, stored: StoredResponse) -> str:
    accepted = {
        part.split(";")[0].strip().lower()
        for part in request.headers.get("Accept-Encoding", "").split(",")
        if part.strip() and not part.replace(" ", "").endswith(";q=0")
    }
    for coding in ("br", "gzip"):
        if coding in stored.bodies and coding in accepted:
            return coding
    return "identity"


def serve(request: HttpRequest, stored: StoredResponse) -> HttpResponseBase:
    coding = chosen_coding(request, stored)
    etag = stored.etag_for(coding)
    # Whole seconds, as HTTP dates go: a rebuild within the same second as the one before
    # is told apart by its ETag, which clients send first (and which wins when both come).
    last_modified = int(stored.built_at)
    response = HttpResponse(stored.bodies[coding])
    for name, value in stored.headers:
        response[name] = value
    if coding != "identity":
        response["Content-Encoding"] = coding
    response["Content-Length"] = str(len(stored.bodies[coding]))
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # The same address answers signed-in users differently, and encodings differ: shared
    # HTTP caches must key on both (the session middleware adds Cookie only when it looked).
    patch_vary_headers(response, ("Cookie", "Authorization", "Accept-Encoding"))
    conditional = get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=response
    )
    return conditional if conditional is not None else response


def cached_response(
    request: HttpRequest, build: Callable[[], HttpResponseBase], variant: str = ""
) -> HttpResponseBase:
    """BUILD's response for this request, rendered once per board version for everyone
    anonymous; anyone else gets BUILD's own."""
    if not cacheable(request):
        return build()
    versioned = board_cache.versioned_key(request_key(request, variant), recent=True)
    stored = _recent.get(versioned) or cache.get(versioned)
    if stored is None:
        response = build()
        stored = storable(request, response)
        if stored is None:
            return response
        cache.set(versioned, stored, board_cache.TIMEOUT_S)
    _recent.put(versioned, stored)
    return serve(request, stored)
