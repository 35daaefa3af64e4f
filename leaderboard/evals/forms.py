from __future__ import annotations

from typing import Any

from django import forms

from leaderboard.evals.models import ModelType, Precision
from leaderboard.evals.submission import Submission


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

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if any(ch.isspace() for ch in name):
            raise forms.ValidationError("Model ids contain no spaces.")
        return name

    def clean_revision(self) -> str:
        return str(self.cleaned_data["revision"]).strip()

    def to_submission(self) -> Submission:
        data: dict[str, Any] = self.cleaned_data
        return Submission(**data)
