"""A benchmark's declaration as the API shows it: slice dimensions, item fields, methods and
their metrics, read from the contract's dataclasses (one reading for every benchmark), so that
a client learns from `/api/benchmarks/<slug>/` which parameters and columns the benchmark's
other endpoints take and give. Each function has the JSON schema of what it returns beside it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from evaluation.benchmarks.contract import (
    BenchmarkDefinition,
    IntervalMethod,
    Method,
    Metric,
    MetricKind,
    SliceDimension,
    Track,
)

TEXT: dict[str, Any] = {"type": "string"}
FLAG: dict[str, Any] = {"type": "boolean"}


def _enum(values: type[StrEnum], description: str = "") -> dict[str, Any]:
    return {"type": "string", "enum": [v.value for v in values], "description": description}


def _objects(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "object", "properties": properties, "required": list(properties)},
    }


SLICES_SCHEMA = _objects(
    {
        "key": {**TEXT, "description": "The query parameter that selects a value."},
        "label": TEXT,
        "field": {**TEXT, "description": "The item field holding the value."},
        "tabs": {**FLAG, "description": "Shown as tabs on the board (else a filter)."},
        "averaged": {**FLAG, "description": "The board's columns; its overall averages them."},
        "min_n": {"type": "integer", "description": "Slices with fewer items are never ranked."},
        "values": {
            **_objects({"code": TEXT, "name": TEXT, "scored": FLAG}),
            "description": "The values the declaration labels; a release may hold others "
            "(see its manifest's counts), which are served like these.",
        },
    }
)


def slices(benchmark: BenchmarkDefinition) -> list[dict[str, Any]]:
    return [_dimension(d) for d in benchmark.slices]


def _dimension(d: SliceDimension) -> dict[str, Any]:
    return {
        "key": d.key,
        "label": d.label,
        "field": d.field,
        "tabs": d.tabs,
        "averaged": d.averaged,
        "min_n": d.min_n,
        "values": [
            {"code": code, "name": name, "scored": code not in d.unscored}
            for code, name in d.value_labels.items()
        ],
    }


ITEM_FIELDS_SCHEMA = _objects(
    {
        "name": TEXT,
        "label": TEXT,
        "kind": {**TEXT, "description": "text, short (a filter of item lists) or json."},
        "required": FLAG,
        "searchable": {**FLAG, "description": "Part of the full-text search `q`."},
        "listed": FLAG,
        "exported": {**FLAG, "description": "A column of the release's files and item lists."},
    }
)


def item_fields(benchmark: BenchmarkDefinition) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "label": f.label,
            "kind": f.kind,
            "required": f.required,
            "searchable": f.searchable,
            "listed": f.listed,
            "exported": f.exported,
        }
        for f in benchmark.item_fields
    ]


BOUND: dict[str, Any] = {"type": "number", "nullable": True}
METRIC_PROPERTIES: dict[str, Any] = {
    "key": {**TEXT, "description": "The `metric` of scores and of the board's parameters."},
    "label": TEXT,
    "kind": _enum(MetricKind),
    "interval": _enum(IntervalMethod, "How its 95% confidence intervals are computed."),
    "higher_is_better": FLAG,
    "lower": {**BOUND, "description": "Its lower bound, null if none."},
    "upper": {**BOUND, "description": "Its upper bound, null if none."},
    "cluster_field": {
        **TEXT,
        "nullable": True,
        "description": "The item field whose clusters a cluster bootstrap resamples.",
    },
    "description": TEXT,
}
METHODS_SCHEMA = _objects(
    {
        "key": {**TEXT, "description": "The `method` of scores and of the board's parameters."},
        "label": TEXT,
        "track": _enum(Track, "Where its numbers come from; rankings never mix tracks."),
        "description": TEXT,
        "primary": {**TEXT, "description": "The metric the board ranks by by default."},
        "metrics": _objects(METRIC_PROPERTIES),
        "submetrics": {
            **_objects({"key": TEXT, "label": TEXT, "description": TEXT}),
            "description": "Diagnostic parts, keyed so in the `parts` of scores and cells.",
        },
    }
)


def methods(benchmark: BenchmarkDefinition) -> list[dict[str, Any]]:
    return [_method(m) for m in benchmark.methods]


def _method(m: Method) -> dict[str, Any]:
    return {
        "key": m.key,
        "label": m.label,
        "track": m.track.value,
        "description": m.description,
        "primary": m.primary,
        "metrics": [_metric(x) for x in m.metrics],
        "submetrics": [
            {"key": s.key, "label": s.label, "description": s.description} for s in m.submetrics
        ],
    }


def _metric(x: Metric) -> dict[str, Any]:
    return {
        "key": x.key,
        "label": x.label,
        "kind": x.kind.value,
        "interval": x.interval.value,
        "higher_is_better": x.higher_is_better,
        "lower": x.lower,
        "upper": x.upper,
        "cluster_field": x.cluster_field,
        "description": x.description,
    }
