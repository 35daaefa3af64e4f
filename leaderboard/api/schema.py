"""Documents the error responses every API operation can give, in one place.

DRF and the site's middleware answer errors with JSON of one shape (`{"detail": "..."}`, or a
list of messages per field for invalid input) on every route, so the schema says so once here
instead of in an `extend_schema` per view.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "`detail` says what went wrong; invalid input lists its messages per field instead "
        "(`non_field_errors` for the body as a whole)."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
HTTP_METHODS = {"get", "head", "options", "trace", *UNSAFE_METHODS}


def error_statuses(method: str, path: str) -> dict[str, str]:
    """The error statuses an operation can answer, with what each means there."""
    statuses = {
        "400": "Invalid parameters or body, or a NUL character in the request.",
        "401": "The credentials sent are invalid (reads need none; writes need a token).",
    }
    if method in UNSAFE_METHODS:
        statuses["403"] = "Not allowed for this user (e.g. only the submitter or staff)."
    if method == "get" or "{" in path:
        statuses["404"] = "No such object, page, release, nation, mode or method."
    statuses["429"] = "Too many requests; retry after the `Retry-After` header's seconds."
    return statuses


def document_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: adds the error responses to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue  # path-level keys such as `parameters`
            responses = operation.setdefault("responses", {})
            for status, description in error_statuses(method, path).items():
                responses.setdefault(status, {"description": description, "content": body})
    return result
