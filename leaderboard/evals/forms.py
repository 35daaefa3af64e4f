from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.conf import settings

from evaluation.alignment.train import benchmark_settings
from evaluation.benchmarks.contract import BenchmarkDefinition
from evaluation.model_check import SUBMITTED_NAME, SUBMITTED_NAME_MESSAGE
from leaderboard.catalog.models import DatasetRelease
from leaderboard.evals.models import ModelType, Precision, Provider
from leaderboard.evals.submission import Submission, current_releases


class SubmissionForm(forms.Form):
    name = forms.CharField(
        label="Model",
        max_length=200,
        help_text="Hugging Face id (organisation/model-name), or the served model name for an endpoint.",
    )
    revision = forms.CharField(
        max_length=64,
        required=False,
        help_text="Commit hash to pin. Branch names are resolved to their current commit.",
    )
    precision = forms.ChoiceField(choices=Precision.choices, initial=Precision.BFLOAT16)
    model_type = forms.ChoiceField(label="Model type", choices=ModelType.choices)
    params_billions = forms.FloatField(
        label="Parameters (billions)",
        required=False,
        min_value=0.0,
        help_text="Leave empty to read it from the model's config.",
    )
    family = forms.CharField(max_length=64, required=False, help_text="e.g. llama, qwen, mistral")
    use_chat_template = forms.BooleanField(
        label="Apply the chat template",
        required=False,
        help_text="For instruction-tuned models: prompts are wrapped in the tokenizer's chat template.",
    )
    endpoint_url = forms.URLField(
        label="OpenAI-compatible endpoint",
        required=False,
        help_text="Optional: a completions endpoint (e.g. a vLLM server) that returns log-probabilities.",
    )
    provider = forms.ChoiceField(
        label="Served by a registered provider",
        required=False,
        help_text="For API models: the model name above is its name at this provider. Chat "
        "models are scored on the generative track, ranked apart from log-likelihoods.",
    )
    benchmarks = forms.MultipleChoiceField(
        label="Benchmarks",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="One evaluation job per benchmark, on its current release (none ticked: all).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roots = ", ".join(str(root) for root in settings.SUBMISSION_LOCAL_ROOTS)
        self.fields["name"].help_text = (
            "Hugging Face id (organisation/model-name); the served model name for an endpoint "
            "or provider; or the absolute path of a model directory on this server, under "
            f"{roots or 'no directory (none is allowed)'} (pages show its folder name and a "
            "fingerprint of its files, never the path)."
        )
        releases = current_releases()
        field = self.fields["benchmarks"]
        field.choices = [  # type: ignore[attr-defined]
            (slug, f"{release.benchmark.name} (release {release.version})")
            for slug, release in releases.items()
        ]
        field.initial = list(releases)
        self.fields["provider"].choices = [("", "— none (weights or endpoint) —")] + [  # type: ignore[attr-defined]
            (name, name)
            for name in Provider.objects.filter(accepts_submissions=True).values_list(
                "name", flat=True
            )
        ]

    def clean_name(self) -> str:
        # The API's rule (and its schema's pattern), after trimming what a browser adds.
        name: str = self.cleaned_data["name"].strip()
        if not re.fullmatch(SUBMITTED_NAME, name):
            raise forms.ValidationError(SUBMITTED_NAME_MESSAGE)
        return name

    def clean_revision(self) -> str:
        return str(self.cleaned_data["revision"]).strip()

    def to_submission(self) -> Submission:
        data: dict[str, Any] = self.cleaned_data
        return Submission(**data)


@dataclass(frozen=True)
class AlignmentTarget:
    dimension: str
    value: str
    label: str
    #: items of this target the benchmark lets an alignment train on
    train_items: int

    @property
    def key(self) -> str:
        return f"{self.dimension}={self.value}"


def alignment_targets(
    release: DatasetRelease, benchmark: BenchmarkDefinition
) -> list[AlignmentTarget]:
    """The release's values of each declared target dimension, with their trainable items
    (DiverValue-Bench: the train split's), in the declaration's order."""
    declared = benchmark.alignment
    if declared is None:
        return []
    slice_fields = {d.field: d.key for d in benchmark.slices}
    where = {
        f"slices__{slice_fields[name]}" if name in slice_fields else f"data__{name}": value
        for name, value in declared.train_where.items()
    }
    all_values: dict[str, set[str]] = {key: set() for key in declared.targets}
    trainable: Counter[tuple[str, str]] = Counter()
    for slices in release.items.values_list("slices", flat=True):
        for key in declared.targets:
            all_values[key].add(str(slices.get(key, "")))
    for slices in release.items.filter(**where).values_list("slices", flat=True):
        for key in declared.targets:
            trainable[(key, str(slices.get(key, "")))] += 1
    targets = []
    for key in declared.targets:
        dimension = benchmark.slice_dimension(key)
        for value in sorted(all_values[key] - {""} - dimension.unscored, key=dimension.sort_key):
            targets.append(
                AlignmentTarget(
                    key,
                    value,
                    f"{dimension.label}: {dimension.label_of(value)}",
                    trainable[(key, value)],
                )
            )
    return targets


class AlignmentForm(forms.Form):
    """DPO + LoRA toward one population of a benchmark; the defaults are its publisher's."""

    target = forms.ChoiceField(help_text="The population whose preferred answers are chosen.")
    source = forms.ChoiceField(
        label="Training data",
        choices=[("release", "The release")],
        initial="release",
    )
    test_fraction = forms.FloatField(
        label="Held-out share of topics",
        initial=0.2,
        min_value=0.05,
        max_value=0.8,
        help_text="Whole topics are held out, so no test item is ever trained on.",
    )
    epochs = forms.FloatField(min_value=0.1, max_value=20.0)
    learning_rate = forms.FloatField(min_value=1e-7, max_value=1e-2)
    beta = forms.FloatField(label="DPO beta", min_value=0.01, max_value=1.0)
    lora_r = forms.IntegerField(label="LoRA r", min_value=1, max_value=256)
    lora_alpha = forms.IntegerField(label="LoRA alpha", min_value=1, max_value=512)
    lora_dropout = forms.FloatField(label="LoRA dropout", min_value=0.0, max_value=0.5)

    #: form field -> DPOSettings field
    DPO_FIELDS: ClassVar[dict[str, str]] = {
        "epochs": "num_train_epochs",
        "learning_rate": "learning_rate",
        "beta": "beta",
        "lora_r": "lora_r",
        "lora_alpha": "lora_alpha",
        "lora_dropout": "lora_dropout",
    }

    def __init__(
        self,
        *args: Any,
        benchmark: BenchmarkDefinition,
        release: DatasetRelease,
        run_dir: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        declared = benchmark.alignment
        if declared is None:
            raise ValueError(f"{benchmark.name} offers no alignment")
        self.benchmark = benchmark
        self.targets = {t.key: t for t in alignment_targets(release, benchmark)}
        self.fields["target"].choices = [  # type: ignore[attr-defined]
            (t.key, f"{t.label} ({t.train_items} items to train on)") for t in self.targets.values()
        ]
        self.narrowing = {}
        for key in declared.narrowing:
            dimension = benchmark.slice_dimension(key)
            values = sorted(
                {str(v.get(key, "")) for v in release.items.values_list("slices", flat=True)}
                - {""}
                - dimension.unscored,
                key=dimension.sort_key,
            )
            self.narrowing[f"narrow_{key}"] = key
            self.fields[f"narrow_{key}"] = forms.MultipleChoiceField(
                label=f"{dimension.label}s trained on",
                choices=[(v, dimension.label_of(v)) for v in values],
                initial=values,
                widget=forms.CheckboxSelectMultiple,
            )
        if not declared.holds_out_share:
            del self.fields["test_fraction"]
        defaults = benchmark_settings(benchmark, {})
        for name, setting in self.DPO_FIELDS.items():
            self.fields[name].initial = getattr(defaults, setting)
        self.run_dir = run_dir
        if run_dir:
            # Only a release built by the pipeline keeps the statements from before the reduction.
            self.fields["source"].choices = [  # type: ignore[attr-defined]
                ("release", "After Conflict Reduction (the release)"),
                ("pre-cr", "Before Conflict Reduction (the pipeline run's triples)"),
            ]

    def clean_target(self) -> AlignmentTarget:
        target = self.targets[str(self.cleaned_data["target"])]
        if target.train_items == 0:
            raise forms.ValidationError(
                f"{target.label} has no items to train on in this release: choose a target "
                "with training items."
            )
        return target

    def to_options(self) -> dict[str, Any]:
        data = self.cleaned_data
        target: AlignmentTarget = data["target"]
        options: dict[str, Any] = {
            "target": {target.dimension: target.value},
            "narrow": {key: list(data[name]) for name, key in self.narrowing.items()},
            "source": data["source"],
            "dpo": {setting: data[name] for name, setting in self.DPO_FIELDS.items()},
        }
        if "test_fraction" in data:
            options["test_fraction"] = data["test_fraction"]
        if data["source"] == "pre-cr":
            options["run_dir"] = self.run_dir
        return options
