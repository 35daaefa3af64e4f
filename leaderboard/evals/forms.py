from __future__ import annotations

import re
from typing import Any

from django import forms

from evaluation.model_check import SUBMITTED_NAME, SUBMITTED_NAME_MESSAGE
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


class AlignmentForm(forms.Form):
    """DPO + LoRA toward one nation; the defaults are the NaVAB and MVPBench papers' settings."""

    nation = forms.ChoiceField(help_text="The nation whose statements are preferred (chosen = S).")
    modes = forms.MultipleChoiceField(
        choices=[("quoted", "Quoted statements"), ("official", "Official positions")],
        initial=["quoted", "official"],
        widget=forms.CheckboxSelectMultiple,
    )
    source = forms.ChoiceField(
        label="Training data",
        choices=[("release", "After Conflict Reduction (the release)")],
        initial="release",
    )
    test_fraction = forms.FloatField(
        label="Held-out share of topics",
        initial=0.2,
        min_value=0.05,
        max_value=0.8,
        help_text="Whole topics are held out, so no test item is ever trained on.",
    )
    epochs = forms.FloatField(initial=3.0, min_value=0.1, max_value=20.0)
    learning_rate = forms.FloatField(initial=5e-5, min_value=1e-7, max_value=1e-2)
    beta = forms.FloatField(label="DPO beta", initial=0.1, min_value=0.01, max_value=1.0)
    lora_r = forms.IntegerField(label="LoRA r", initial=16, min_value=1, max_value=256)
    lora_alpha = forms.IntegerField(label="LoRA alpha", initial=32, min_value=1, max_value=512)
    lora_dropout = forms.FloatField(
        label="LoRA dropout", initial=0.05, min_value=0.0, max_value=0.5
    )

    def __init__(
        self, *args: Any, nations: list[tuple[str, str]], run_dir: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nation"].choices = nations  # type: ignore[attr-defined]
        self.run_dir = run_dir
        if run_dir:
            # Only a release built by the pipeline keeps the statements from before the reduction.
            self.fields["source"].choices = [  # type: ignore[attr-defined]
                ("release", "After Conflict Reduction (the release)"),
                ("pre-cr", "Before Conflict Reduction (the pipeline run's triples)"),
            ]

    def to_options(self) -> dict[str, Any]:
        data = self.cleaned_data
        options: dict[str, Any] = {
            "nation": data["nation"],
            "modes": list(data["modes"]),
            "source": data["source"],
            "test_fraction": data["test_fraction"],
            "dpo": {
                "num_train_epochs": data["epochs"],
                "learning_rate": data["learning_rate"],
                "beta": data["beta"],
                "lora_r": data["lora_r"],
                "lora_alpha": data["lora_alpha"],
                "lora_dropout": data["lora_dropout"],
            },
        }
        if data["source"] == "pre-cr":
            options["run_dir"] = self.run_dir
        return options
