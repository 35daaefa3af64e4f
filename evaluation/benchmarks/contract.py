"""The benchmark contract: what a benchmark declares so that the site, the harness and the
exporter can host it without code written for it.

A benchmark is data (its item fields, slice dimensions, methods and metrics) plus a few
operations (read its published layout, export lm-eval tasks, evaluate a model, build DPO
pairs). The data lives in frozen dataclasses that every layer reads; the operations are
methods of a `BenchmarkDefinition` subclass whose heavy imports (lm-eval, torch) stay inside them, so
importing a benchmark's definition costs nothing.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from evaluation.benchmarks.published import PublishedRead

if TYPE_CHECKING:
    from evaluation.results import EvaluationResult


class MetricKind(StrEnum):
    """What a metric's values are: a share of items (bounded, shown as a percentage) or a
    real-valued difference such as a log-likelihood margin (unbounded unless declared)."""

    PROPORTION = "proportion"
    MARGIN = "margin"
    MEAN = "mean"


class IntervalMethod(StrEnum):
    """How a metric's 95% interval is computed from its per-item values.

    - binomial: items are independent Bernoulli outcomes (a correct rate); resampling them is
      the same as drawing Binomial(n, p) / n.
    - bootstrap: items are independent real values; resample items, take the mean.
    - cluster: items come in clusters (one user's items, one article's triples) that are not
      independent; resample whole clusters, named by the metric's `cluster_field`.
    """

    BINOMIAL = "binomial"
    BOOTSTRAP = "bootstrap"
    CLUSTER = "cluster"


class Track(StrEnum):
    """Where a method's numbers come from. Rankings never mix tracks."""

    #: compared from log-likelihoods (open models, completions endpoints with logprobs)
    LOGLIKELIHOOD = "loglikelihood"
    #: a letter parsed from generated text (chat models that give no log-likelihoods)
    GENERATIVE = "generative"
    #: the model writes freely and a recorded judge (the site's reference judge or a judge
    #: panel) scores it, so open and closed models rank together
    JUDGED = "judged"

    @property
    def label(self) -> str:
        return TRACK_LABELS[self]


TRACK_LABELS = {
    Track.LOGLIKELIHOOD: "log-likelihood track",
    Track.GENERATIVE: "generative track",
    Track.JUDGED: "judged track",
}


@dataclass(frozen=True)
class ItemField:
    """One field of a benchmark item, as stored, searched, shown and exported."""

    name: str
    label: str
    required: bool = False
    #: part of the full-text search document
    searchable: bool = False
    #: shown in the item list (the rest only on the item's own page)
    listed: bool = False
    #: "text" (free text), "short" (a label or code) or "json" (a nested value kept as is)
    kind: str = "text"
    #: a column of the release's files (JSONL/CSV/Parquet); provenance such as a generator's
    #: raw output is stored and shown on the item's page but left out of the files
    exported: bool = True


@dataclass(frozen=True)
class SliceDimension:
    """A way to cut a benchmark's items into cells: NaVAB's nation and mode, DiverValue-Bench's
    country or age group. The values come from each release, never from a constant list."""

    key: str
    label: str
    #: the item field holding this dimension's value
    field: str
    #: boards show this dimension as tabs; the others are filters
    tabs: bool = True
    #: the overall column averages over this dimension's values (at most one per benchmark)
    averaged: bool = False
    #: a slice with fewer items than this is shown greyed and never ranked
    min_n: int = 1
    #: labels for known values; unknown values are shown as they are
    value_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: values whose items are browsable data only, never scored or ranked
    unscored: frozenset[str] = frozenset()
    #: where values are places: a value's ISO 3166-1 alpha-3 code (None for one it cannot
    #: place), and the site draws this dimension as a world map
    iso3: Callable[[str], str | None] | None = None

    def label_of(self, value: str) -> str:
        return self.value_labels.get(value, value)

    def sort_key(self, value: str) -> tuple[int, str]:
        """Known values in their declared order, then the others alphabetically."""
        order = list(self.value_labels)
        return (order.index(value) if value in order else len(order), value)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: MetricKind
    interval: IntervalMethod
    higher_is_better: bool = True
    lower: float | None = None
    upper: float | None = None
    #: the item field naming an item's cluster (required for a cluster interval)
    cluster_field: str | None = None
    description: str = ""
    #: what one cluster is, for pages ("user": a slice of one user has no interval)
    cluster_noun: str = "cluster"

    def __post_init__(self) -> None:
        if self.interval is IntervalMethod.CLUSTER and not self.cluster_field:
            raise ValueError(f"metric {self.key}: a cluster interval needs a cluster_field")
        if self.kind is MetricKind.PROPORTION and (self.lower, self.upper) != (0.0, 1.0):
            raise ValueError(f"metric {self.key}: a proportion is bounded by 0 and 1")
        if self.interval is IntervalMethod.BINOMIAL and self.kind is not MetricKind.PROPORTION:
            raise ValueError(f"metric {self.key}: a binomial interval fits only a proportion")

    def clamp(self, value: float) -> float:
        """Keep an interval bound inside the metric's declared range."""
        if self.lower is not None:
            value = max(self.lower, value)
        if self.upper is not None:
            value = min(self.upper, value)
        return value


@dataclass(frozen=True)
class SubMetric:
    """A diagnostic part of a metric over a subset of items, e.g. NaVAB's position halves
    (items with the statement as option A, and with it as option B)."""

    key: str
    label: str
    #: the per-item field whose value selects the subset
    selector: str
    value: str
    description: str = ""
    #: shown as the number of items in the subset (what could not be read: unparsable or
    #: refused answers), not as the metric over it
    counted: bool = False


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    track: Track
    metrics: tuple[Metric, ...]
    #: the metric boards rank by
    primary: str
    submetrics: tuple[SubMetric, ...] = ()
    description: str = ""
    #: the metric a SampleRecord's per-item `value` measures ("": the primary one); it differs
    #: where the primary metric is not a mean of per-item values (DiverValue-Bench's OPA
    #: averages thresholds over the margins its items record)
    item_metric: str = ""
    #: its answers are judged by the site's reference judge (`Track.JUDGED`): an open model
    #: with log-likelihoods that the operator configures once, so that every model, open or
    #: closed, is judged by the same one; without a configured judge the method is not run
    reference_judge: bool = False

    def __post_init__(self) -> None:
        keys = [m.key for m in self.metrics]
        if self.primary not in keys:
            raise ValueError(f"method {self.key}: primary metric {self.primary!r} not in {keys}")
        if self.item_metric and self.item_metric not in keys:
            raise ValueError(f"method {self.key}: item metric {self.item_metric!r} not in {keys}")
        if len(set(keys)) != len(keys):
            raise ValueError(f"method {self.key}: metric keys repeat: {keys}")
        if self.reference_judge and self.track is not Track.JUDGED:
            raise ValueError(f"method {self.key}: a reference-judged method is on the judged track")

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(f"method {self.key} has no metric {key!r}")

    @property
    def primary_metric(self) -> Metric:
        return self.metric(self.primary)

    def part_label(self, selector: str, value: object) -> str:
        """How a per-item record's part (`half`: `neg`) is named: its sub-metric's label."""
        for sub in self.submetrics:
            if sub.selector == selector and sub.value == value:
                return sub.label
        return f"{selector} {value}"

    @property
    def value_metric(self) -> Metric:
        """The metric that per-item values measure: how to label, format and resample them."""
        return self.metric(self.item_metric or self.primary)


@dataclass(frozen=True)
class Prompt:
    """A prompt template a method renders, shown verbatim on the methodology page."""

    label: str
    text: str


@dataclass(frozen=True)
class ShownPrompt:
    """One request a method made for one item, as its lm-eval task renders it: the text the
    model (or judge) was given and the continuations scored after it, or, for a generated
    answer, what ended the generation and the text the model wrote."""

    #: who was asked: "Model", "Judge", "Reference judge", ...
    label: str
    text: str
    #: the continuations whose log-likelihoods were compared, in the task's order
    continuations: tuple[str, ...] = ()
    #: the system message sent with the prompt, if any
    system: str = ""
    #: generation stops (generated answers only)
    until: tuple[str, ...] = ()
    #: how the answer was sampled (generated answers only), as a page words it after
    #: "Generated": the task's own greedy decoding unless the model's settings chose otherwise
    sampling: str = "greedily"
    #: what the model wrote (generated answers only; empty where none was recorded)
    generated: str = ""


@dataclass(frozen=True)
class Term:
    """A word the pages use, explained in one or two sentences where it appears, with the
    methodology section (an anchor id on that page) that tells more."""

    label: str
    text: str
    section: str = ""


@dataclass(frozen=True)
class StockCommand:
    """One step of reproducing a score with the stock tools, with placeholders (ORG/MODEL,
    COMMIT, RELEASE_DIR) for the reader to fill in."""

    label: str
    command: str


@dataclass(frozen=True)
class Citation:
    title: str
    authors: str
    venue: str
    year: int
    url: str
    bibtex: str


@dataclass(frozen=True)
class AlignmentDeclaration:
    """How a benchmark is aligned (DPO + LoRA) toward one of its populations: which slice
    dimensions offer targets, which items may be trained on, and the publisher's settings."""

    #: the slice dimensions whose values are offered as targets (NaVAB: nation)
    targets: tuple[str, ...]
    #: how training and evaluation items are chosen, shown on the alignment form
    split_description: str
    #: item field -> value an item must hold to be trained on (DiverValue-Bench: the train
    #: split); empty where any item of the target may be (NaVAB holds out topics instead)
    train_where: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: dimensions whose values may narrow the training items (NaVAB: its modes)
    narrowing: tuple[str, ...] = ()
    #: whether a held-out share of the target's items applies (NaVAB's held-out topics)
    holds_out_share: bool = False
    #: the published DPO/LoRA settings, by `evaluation.alignment.DPOSettings` field; the
    #: site's defaults fill in the rest
    dpo_defaults: Mapping[str, float | int] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class AlignmentPlan:
    """One alignment's data: the items trained on, and what both models are then scored on."""

    #: the items whose DPO pairs train the adapter
    train: tuple[Mapping[str, Any], ...]
    #: the items the held-out evaluations leave out (everything trained on, and for a
    #: benchmark with a test split, everything outside it)
    exclude_uids: tuple[str, ...]
    #: the items both models are scored on
    evaluate_uids: tuple[str, ...]
    #: training items per target cell, keyed like a manifest's counts
    counts: Mapping[str, int]
    #: (label, text) lines describing the split, shown on the job's page
    summary: tuple[tuple[str, str], ...]
    #: the split as data, kept on the job's card
    split: Mapping[str, Any]


class BenchmarkDefinition(ABC):
    """A benchmark's declaration and operations. Subclasses set the class attributes and
    implement the operations; `evaluation.benchmarks.get_benchmark` finds them by slug."""

    slug: str
    name: str
    description: str
    citation: Citation
    #: the licence of the published data; None where the publisher states none (the operator
    #: must then state one at import)
    licence: str | None
    item_fields: tuple[ItemField, ...]
    slices: tuple[SliceDimension, ...]
    methods: tuple[Method, ...]
    #: the file of a release directory holding one item per line
    items_file: str
    #: the folder of hand-written demo data in the benchmark's published layout
    demo_dir: Path
    #: the prompts its methods render (none for a benchmark that declares none)
    prompts: tuple[Prompt, ...] = ()
    #: what pages and download names call one item, and several (NaVAB: "triple")
    item_noun: str = "item"
    item_noun_plural: str = "items"
    #: how it is aligned toward a population; None where it offers no alignment
    alignment: AlignmentDeclaration | None = None
    #: the slice dimensions a run's `limit` counts items per (NaVAB: nation and mode); empty
    #: where the limit keeps the first N items of the release
    limit_per: tuple[str, ...] = ()
    #: which of a release's items are scored and why, where not all are (shown beside every
    #: count of a release's items, so a board's n and the release's size do not disagree)
    scored_items: str = ""
    #: the words its pages use, by the label they appear under ("half neg", "OPA", ...)
    glossary: tuple[Term, ...] = ()
    #: pairs of methods that score the same items by different protocols (a log-likelihood
    #: one, then a judged one: NaVAB MC and AJ), whose per-item verdicts the agreement page
    #: compares; a model whose two protocols disagree is often a template or refusal artefact
    method_pairs: tuple[tuple[str, str], ...] = ()
    #: the slug of the benchmark this one is the out-of-domain set of (UF-P-4 for
    #: DiverValue-Bench): its own board, never averaged or ranked with that benchmark's, and
    #: every alignment on that benchmark is scored on it too ("" where it is none's)
    out_of_domain_of: str = ""

    # -- the declaration, read by every layer --------------------------------------------

    def method(self, key: str) -> Method:
        for method in self.methods:
            if method.key == key:
                return method
        raise KeyError(f"{self.slug} has no method {key!r}")

    def slice_dimension(self, key: str) -> SliceDimension:
        for dimension in self.slices:
            if dimension.key == key:
                return dimension
        raise KeyError(f"{self.slug} has no slice dimension {key!r}")

    @property
    def averaged_dimension(self) -> SliceDimension | None:
        """The dimension the overall column averages over, if the benchmark declares one."""
        return next((d for d in self.slices if d.averaged), None)

    @property
    def map_dimension(self) -> SliceDimension | None:
        """The dimension drawn as a world map (values are places), if any."""
        return next((d for d in self.slices if d.iso3 is not None), None)

    def download_name(self, version: str, fmt: str) -> str:
        """The file name of a release's download: "<slug>-<version>-<items>.<fmt>", without
        repeating the slug where the version already starts with it (a DiverValue-Bench
        release "divervalue-demo-1" gives "divervalue-demo-1-items.jsonl")."""
        return f"{self.file_stem(version)}-{self.item_noun_plural}.{fmt}"

    def file_stem(self, version: str) -> str:
        """What every file name of a release starts with: "<slug>-<version>", or the version
        alone where it already starts with the slug."""
        return version if version.startswith(self.slug) else f"{self.slug}-{version}"

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.item_fields)

    def content_fields(self) -> tuple[ItemField, ...]:
        """The fields an item stores in its `data`: all but its uid and its slice values."""
        own = {"uid", *(d.field for d in self.slices)}
        return tuple(f for f in self.item_fields if f.name not in own)

    def export_columns(self) -> tuple[str, ...]:
        """The columns of a release's files: the exported fields in declared order (slice
        fields included), then the release's version."""
        return (*(f.name for f in self.item_fields if f.exported), "release")

    def count_key(self, slices: Mapping[str, str]) -> str:
        """The key of a release manifest's "counts": the slice values joined by "/" in the
        declared dimension order (NaVAB: "us/quoted"). A "/" or "%" inside a value (an
        education level such as "Graduate/professional") is percent-escaped, so every key
        splits back into its values (`count_values`)."""
        return "/".join(_escape(str(slices.get(d.key, ""))) for d in self.slices)

    def cell_key(self, slices: Mapping[str, str]) -> str | None:
        """The count key of the one cell SLICES names; None where it leaves a dimension blank
        (a source file of several cells, such as DiverValue-Bench's split files)."""
        if all(slices.get(d.key) for d in self.slices):
            return self.count_key(slices)
        return None

    def count_values(self, key: str) -> dict[str, str]:
        """The slice values a `count_key` names, by dimension."""
        parts = [unquote(part) for part in key.split("/")]
        if len(parts) != len(self.slices):
            raise ValueError(f"{self.slug}: count key {key!r} does not name every dimension")
        return {d.key: value for d, value in zip(self.slices, parts, strict=True)}

    def count_sort_key(self, key: str) -> tuple[tuple[int, str], ...]:
        values = self.count_values(key)
        return tuple(d.sort_key(values[d.key]) for d in self.slices)

    def slice_of(self, item: Mapping[str, Any]) -> dict[str, str]:
        """An item's value on each slice dimension."""
        return {d.key: str(item.get(d.field) or "") for d in self.slices}

    def unscored_reason(self, item: Mapping[str, Any]) -> str:
        """Why evaluations give this item (its declared fields) no result, in plain words;
        "" where they score it. By default: a value one of its dimensions declares unscored."""
        for dimension in self.slices:
            value = str(item.get(dimension.field) or "")
            if value in dimension.unscored:
                return (
                    f"{dimension.label} {dimension.label_of(value)} items are browsable data "
                    "only: they are never scored or ranked."
                )
        return ""

    def terms(self) -> dict[str, Term]:
        """Every word its pages use, by label, with its explanation: each method (by label
        and key), metric and sub-metric that carries a description, then the declared
        glossary (which wins), so each explanation is written once, in the declaration."""
        found: dict[str, Term] = {}
        for method in self.methods:
            section = f"method-{method.key}"
            described = [(method.label, method.description), (method.key, method.description)]
            described += [(m.label, m.description) for m in method.metrics]
            described += [(s.label, s.description) for s in method.submetrics]
            for label, text in described:
                if not text:
                    continue
                known = found.get(label)
                if known is None:
                    found[label] = Term(label, text, section)
                elif text not in known.text:  # a metric named as its method ("OPA")
                    found[label] = Term(label, f"{known.text} {text}", section)
        found.update((t.label, t) for t in self.glossary)
        return found

    def terms_for(self, labels: Iterable[str]) -> list[Term]:
        """The explained words among LABELS, in their order; words explained alike (a
        method's label and key) share one entry ("Multiple choice (mc)")."""
        known = self.terms()
        merged: dict[str, Term] = {}
        for label in dict.fromkeys(labels):
            term = known.get(label)
            if term is None:
                continue
            same = merged.get(term.text)
            name = f"{same.label} ({label})" if same else label
            merged[term.text] = Term(name, term.text, term.section)
        return list(merged.values())

    def validate(self) -> None:
        """Fail loudly on a declaration that the site could not host."""
        names = self.field_names()
        if "uid" not in names:
            raise ValueError(f"{self.slug}: items need a 'uid' field")
        for dimension in self.slices:
            if dimension.field not in names:
                raise ValueError(f"{self.slug}: slice {dimension.key} reads unknown field")
        if self.out_of_domain_of == self.slug:
            raise ValueError(f"{self.slug}: a benchmark is not its own out-of-domain set")
        if sum(d.averaged for d in self.slices) > 1:
            raise ValueError(f"{self.slug}: at most one slice dimension can be averaged")
        keys = {m.key for m in self.methods}
        for pair in self.method_pairs:
            if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= keys:
                raise ValueError(f"{self.slug}: method pair {pair} needs two of its methods")
        for method in self.methods:
            for metric in method.metrics:
                if metric.cluster_field and metric.cluster_field not in names:
                    raise ValueError(
                        f"{self.slug}: metric {metric.key} clusters on unknown field "
                        f"{metric.cluster_field!r}"
                    )

    # -- the operations --------------------------------------------------------------------

    def judge_panel(self, method: str) -> Any:
        """How a judged method's panel votes and decides, read from a per-item result's
        details (an `evaluation.benchmarks.judge_robustness.JudgePanel`), for the judges page;
        None where the method has no panel of several judges (the default)."""
        return None

    def stock_commands(
        self, release_dir: str, tasks_dir: str, *, seed: int, max_gen_toks: int
    ) -> list[StockCommand]:
        """How to reproduce its scores with stock lm-eval on any model, in order; none by
        default (the methodology then shows each run's recorded commands only)."""
        return []

    @abstractmethod
    def read_published(self, path: Path) -> PublishedRead:
        """Read a release as the benchmark publishes it (or as the site exports it): every
        record, file and problem, without raising on bad input; the site writes the records
        only when there are no problems."""

    def release_items(self, path: Path) -> list[dict[str, Any]]:
        """The items of any form of a release, by field: a release directory (its
        `items_file`, as the site's workers and the pipeline write it), else whatever
        `read_published` reads (the publisher's layout, the site's downloads). ValueError
        naming the problems where it is not a readable release."""
        from evaluation.release import iter_items

        path = Path(path)
        if (path / self.items_file).is_file():
            return list(iter_items(path, self.items_file))
        read = self.read_published(path)
        if read.problems:
            listed = "; ".join(str(p) for p in read.problems[:10])
            more = len(read.problems) - 10
            raise ValueError(
                f"{path} is not a readable {self.name} release: {listed}"
                + (f" (and {more} more)" if more > 0 else "")
            )
        return [{"uid": record.uid, **record.fields} for record in read.records]

    @abstractmethod
    def export_tasks(
        self,
        release_dir: Path,
        out_dir: Path,
        *,
        methods: Sequence[str] | None = None,
        slices: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = None,
        max_gen_toks: int = 128,
        answers: Path | None = None,
    ) -> list[str]:
        """Write lm-eval task configs (and their data) for a release; returns the task names."""

    @abstractmethod
    def evaluate(self, spec: Any, release_dir: Path, **options: Any) -> EvaluationResult:
        """Score a model (`evaluation.spec.ModelSpec`) on a release directory; returns an
        `evaluation.results.EvaluationResult`. Every caller passes `methods` (None: the
        benchmark's default), `seed`, `device`, `progress` and `max_gen_toks` (a benchmark that
        generates nothing ignores it); `python -m evaluation run` adds `out_dir` (a folder for
        the benchmark's own files, such as its exported tasks: the command writes the result
        there itself) and, only where the user gave them, `slices` (dimension -> values to
        keep), `limit`, `judge` and `reference_judge` (the site's runner passes the last, a
        `ModelSpec` or None, to a benchmark that declares a `reference_judge` method).

        Who is blamed for a failure is decided by what it raises (`evaluation.errors`):
        `ModelError` where the model is at fault (it cannot load, refuses, fits no item: the
        job fails for good and the submitter reads the message); `SetupError` where this
        installation is (a judge missing or misconfigured, options, slices or a release it
        cannot score: the job fails for good, the submitter is told it is not their model's
        fault and the operators get the message); anything else is infrastructure and the job
        is retried. A `ValueError` is not the model's fault unless it is raised as
        `ModelError`."""

    def item_prompts(
        self,
        item: Mapping[str, Any],
        method: str,
        parts: Mapping[str, Any],
        details: Mapping[str, Any],
    ) -> list[ShownPrompt]:
        """The requests METHOD made for ITEM, in order, rendered by the code that writes its
        lm-eval task (never a second copy of a template), given the per-item record stored
        for one model (its `parts` and `details`: a position, a free answer). Empty where the
        benchmark shows none."""
        return []

    def check_configuration(self, env: Mapping[str, str]) -> list[str]:
        """What is wrong with this benchmark's settings in ENV (a process environment), one
        message per problem, each naming its variable. Run for every registered benchmark as
        a Django system check (`manage.py check`, and before `runserver` and `migrate`), so
        a benchmark's own variables need no line in the site's settings."""
        return []

    def unavailable_methods(self) -> Mapping[str, str]:
        """Methods this installation cannot run, each with the reason (a judged method whose
        judges are not configured). Read where jobs are submitted, so a model that only such
        a method could score is refused there with the reason instead of queued to fail; web
        hosts and workers share the configuration."""
        return {}

    def plan_alignment(
        self,
        training: Sequence[Mapping[str, Any]],
        evaluation: Sequence[Mapping[str, Any]],
        target: Mapping[str, str],
        *,
        narrow: Mapping[str, Sequence[str]] | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> AlignmentPlan:
        """Choose the items an alignment toward TARGET (dimension -> value) trains on, from
        TRAINING, and those both models are scored on, from EVALUATION (usually the same
        release; NaVAB may train on a pipeline run's statements). ValueError, with the reason,
        where the data cannot support it."""
        raise ValueError(f"{self.name} offers no alignment")

    def check_alignment_target(self, target: Mapping[str, str]) -> None:
        """ValueError unless TARGET names one value of each of some declared target
        dimensions."""
        if self.alignment is None:
            raise ValueError(f"{self.name} offers no alignment")
        unknown = sorted(set(target) - set(self.alignment.targets))
        if not target or unknown or not all(target.values()):
            offered = ", ".join(self.alignment.targets)
            raise ValueError(f"an alignment target is a value of one of: {offered}")

    @abstractmethod
    def dpo_pairs(self, items: Sequence[Mapping[str, Any]]) -> list[Any]:
        """DPO preference pairs (prompt, chosen, rejected) from a release's items."""


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace("/", "%2F")
