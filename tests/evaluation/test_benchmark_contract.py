"""The benchmark contract: a lazy registry, validated declarations, declared intervals, and
slices taken from the release rather than from constants."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluation.benchmarks import benchmark_slugs, get_benchmark, register, unregister
from evaluation.benchmarks.contract import IntervalMethod, Method, Metric, MetricKind, Track
from evaluation.benchmarks.intervals import metric_interval
from evaluation.benchmarks.navab.harness import evaluate
from evaluation.benchmarks.navab.records import TripleRecord, write_release
from evaluation.errors import SetupError
from evaluation.stats import bootstrap_mean_ci
from tests.evaluation.conftest import cpu_spec


@pytest.mark.slow  # a Python process of its own
def test_listing_benchmarks_imports_none_of_them():
    code = (
        "import sys, evaluation.benchmarks as b; print(b.benchmark_slugs()); "
        "print('evaluation.benchmarks.navab' in sys.modules, 'lm_eval' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["['navab', 'divervalue', 'ufp4']", "False False"]


def test_navab_declares_its_slices_methods_and_metrics():
    navab = get_benchmark("navab")
    assert [d.key for d in navab.slices] == ["nation", "mode"]
    assert navab.averaged_dimension is not None and navab.averaged_dimension.key == "nation"
    assert [m.key for m in navab.methods] == ["mc", "aj", "mc_gen", "aj_ref"]
    assert [m.track for m in navab.methods] == [
        Track.LOGLIKELIHOOD,
        Track.LOGLIKELIHOOD,
        Track.GENERATIVE,
        Track.JUDGED,
    ]
    assert [m.reference_judge for m in navab.methods] == [False, False, False, True]
    acc = navab.method("mc").primary_metric
    assert (acc.kind, acc.interval, acc.lower, acc.upper) == (
        MetricKind.PROPORTION,
        IntervalMethod.BINOMIAL,
        0.0,
        1.0,
    )
    assert [s.key for s in navab.method("mc").submetrics] == ["pos", "neg"]
    assert navab.slice_of({"nation": "jp", "mode": "quoted"}) == {"nation": "jp", "mode": "quoted"}


def test_an_unknown_benchmark_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown benchmark 'nope'; registered: navab, divervalue"):
        get_benchmark("nope")


def test_a_registered_target_must_be_the_benchmark_it_claims():
    register("wrong", "evaluation.benchmarks.navab:BENCHMARK")
    try:
        assert "wrong" in benchmark_slugs()
        with pytest.raises(TypeError, match="is not the definition of benchmark 'wrong'"):
            get_benchmark("wrong")
    finally:
        unregister("wrong")
    with pytest.raises(ValueError, match="already registered"):
        register("navab", "x:y")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": MetricKind.MARGIN, "interval": IntervalMethod.CLUSTER}, "needs a cluster_field"),
        (
            {"kind": MetricKind.PROPORTION, "interval": IntervalMethod.BINOMIAL},
            "bounded by 0 and 1",
        ),
        ({"kind": MetricKind.MARGIN, "interval": IntervalMethod.BINOMIAL}, "only a proportion"),
    ],
)
def test_a_metric_declaration_that_cannot_hold_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Metric(key="m", label="M", **kwargs)


def test_per_item_values_measure_the_declared_item_metric_or_else_the_primary():
    opa = get_benchmark("divervalue").method("opa")
    assert (opa.primary_metric.key, opa.value_metric.key) == ("opa", "margin")
    mc = get_benchmark("navab").method("mc")
    assert mc.value_metric is mc.primary_metric
    with pytest.raises(ValueError, match="item metric 'nope' not in"):
        Method("m", "M", Track.LOGLIKELIHOOD, mc.metrics, primary=mc.primary, item_metric="nope")


def test_a_cluster_interval_is_wider_than_an_item_interval_when_clusters_agree_within():
    # 20 users with 10 items each; a user's items share one value, so there are only 20
    # independent observations, not 200.
    values = [float(user % 2) + 0.1 * (user % 5) for user in range(20) for _ in range(10)]
    users = [f"u{user}" for user in range(20) for _ in range(10)]
    item_low, item_high = bootstrap_mean_ci(values, seed=3)
    cluster_low, cluster_high = bootstrap_mean_ci(values, seed=3, clusters=users)
    mean = sum(values) / len(values)
    assert item_low < mean < item_high and cluster_low < mean < cluster_high
    assert (cluster_high - cluster_low) > 2 * (item_high - item_low)
    assert bootstrap_mean_ci(values, seed=3, clusters=users) == (cluster_low, cluster_high)


def test_a_margin_interval_is_not_clamped_to_a_rate():
    margin = Metric("margin", "Mean margin", MetricKind.MARGIN, IntervalMethod.BOOTSTRAP)
    low, high = metric_interval(margin, [-3.0, -2.5, 4.0, 6.0, -1.0, 5.5], seed=1)
    assert low < 0.0 and high > 1.0
    clustered = Metric("m", "M", MetricKind.MARGIN, IntervalMethod.CLUSTER, cluster_field="user_id")
    with pytest.raises(ValueError, match="needs cluster labels"):
        metric_interval(clustered, [1.0, 2.0], seed=1)


def _release_with_new_nation(directory):
    records = [
        TripleRecord(
            uid=f"{nation}-{i:02d}",
            nation=nation,
            mode="quoted",
            question=f"Should {nation} adopt policy {i}?",
            statement=f"{nation} supports policy {i}.",
            reverse_statement=f"{nation} opposes policy {i}.",
        )
        for nation in ("jp", "us")
        for i in range(2)
    ]
    write_release(directory, records, {"version": "with-jp"})
    return directory


def test_an_export_takes_its_nations_from_the_release(tmp_path):
    release = _release_with_new_nation(tmp_path / "release")
    names = get_benchmark("navab").export_tasks(release, tmp_path / "tasks", methods=["mc"])
    assert sorted(names) == ["navab_mc_jp_quoted", "navab_mc_us_quoted"]
    docs = (tmp_path / "tasks" / "data" / "navab_mc_jp_quoted.jsonl").read_text().splitlines()
    assert [json.loads(d)["nation"] for d in docs] == ["jp", "jp"]
    with pytest.raises(SetupError, match=r"unknown nation.*choose from us, jp"):
        get_benchmark("navab").export_tasks(release, tmp_path / "t2", slices={"nation": ["fr"]})


@pytest.mark.slow
def test_a_nation_the_code_has_never_heard_of_is_evaluated(tiny_model, tmp_path):
    release = _release_with_new_nation(tmp_path / "release")
    result = evaluate(cpu_spec(tiny_model), release, methods=["mc"], device="cpu")
    assert [(r.slices["nation"], r.slices["mode"], r.n) for r in result.scores] == [
        ("us", "quoted", 2),
        ("jp", "quoted", 2),
    ]
    assert result.card.slices["nation"] == ["us", "jp"]


def test_a_count_key_splits_back_into_values_that_hold_slashes():
    dvb = get_benchmark("divervalue")
    values = {
        "birth_country": "Bosnia and Herzegovina",
        "region": "Other",
        "age": "25-34 years old",
        "gender": "Non-binary / third gender",
        "education": "Graduate / professional degree",
        "marital_status": "100% single",
    }
    key = dvb.count_key(values)
    assert dvb.count_values(key) == values
    assert get_benchmark("navab").count_key({"nation": "us", "mode": "quoted"}) == "us/quoted"
    with pytest.raises(ValueError, match="does not name every dimension"):
        dvb.count_values("a/b")


def test_download_names_use_the_item_noun_and_name_the_slug_once():
    navab, dvb = get_benchmark("navab"), get_benchmark("divervalue")

    assert navab.download_name("demo-1", "jsonl") == "navab-demo-1-triples.jsonl"
    assert navab.download_name("navab-demo-1", "csv") == "navab-demo-1-triples.csv"
    assert dvb.download_name("divervalue-demo-1", "jsonl") == "divervalue-demo-1-items.jsonl"
    assert dvb.download_name("dvb-1", "parquet") == "divervalue-dvb-1-items.parquet"
