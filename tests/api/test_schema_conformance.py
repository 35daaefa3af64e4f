"""Schemathesis over every operation of the served OpenAPI schema, against a live server with
a signed-in client (so writes run too): no 5xx, every status and content type documented,
every body as the schema describes it. Bounded: a fixed seed and a few examples per mode."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import evaluate, make_model, make_release

pytestmark = pytest.mark.slow
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEED = 20251
EXAMPLES = 8


def run_operation(operation, mode, base_url, headers, statuses):
    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no examples replayed from earlier runs: the same run every time
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1

    run()


def test_every_operation_conforms_to_the_schema(live_server, owner):
    cache.clear()  # throttle counters left by other tests
    release = make_release("r1", per_cell=4, signal=False)
    evaluate(make_model("org/a"), release)
    headers = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 19
    failures = []
    statuses: Counter[int] = Counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, live_server.url, headers, statuses)
            except Unsatisfiable:
                # Nothing breaks the schema of a path parameter that takes any string.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis failures are groups
                failures.append(f"{operation.label} [{mode}]: {exc}")
    assert not failures, "\n\n".join(failures)
    # The run reached the views, not only a refusal at the door.
    assert {200, 400, 404} <= set(statuses), statuses
