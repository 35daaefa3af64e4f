"""How much more likely a model finds the nation's statement than its reverse, given the prompt.

margin = log p(S | prompt) - log p(RS | prompt), each the sum of the completion's token
log-probabilities. Completions are tokenized the way trl's DPOTrainer does: prompt and
prompt + completion are tokenized whole and the completion starts where they diverge, so the
margin measures exactly what training moved (less the EOS token trl appends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation import repro
from evaluation.alignment.train import load_tokenizer, precision
from evaluation.benchmarks.navab.alignment.pairs import DPOPair
from evaluation.spec import ModelSpec


@dataclass(frozen=True)
class MarginReport:
    margins: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.margins)

    @property
    def mean(self) -> float:
        return sum(self.margins) / len(self.margins) if self.margins else float("nan")

    @property
    def prefer_statement_rate(self) -> float:
        """Share of pairs where the model finds S more likely than RS."""
        if not self.margins:
            return float("nan")
        return sum(1 for m in self.margins if m > 0) / len(self.margins)

    def to_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mean": self.mean, "prefer_statement_rate": self.prefer_statement_rate}


def load_scoring_model(
    base_model: str,
    *,
    adapter: Path | None = None,
    revision: str | None = None,
    device: str = "auto",
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode: the base model, or the base model with a LoRA adapter."""
    from transformers import AutoModelForCausalLM

    run_device = repro.resolve_device(device, ModelSpec(pretrained=base_model, revision=revision))
    model: Any = AutoModelForCausalLM.from_pretrained(
        base_model, revision=revision, dtype=precision(run_device), trust_remote_code=False
    )
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.to(run_device)
    model.eval()
    return model, load_tokenizer(base_model, revision)


def _completion_ids(tokenizer: Any, prompt: str, completion: str) -> tuple[list[int], int]:
    """Token ids of prompt + completion and the index where the completion starts."""
    prompt_ids: list[int] = tokenizer(prompt)["input_ids"]
    full: list[int] = tokenizer(prompt + completion)["input_ids"]
    start = 0
    while start < min(len(prompt_ids), len(full)) and prompt_ids[start] == full[start]:
        start += 1
    # The first token has no context to be scored against.
    return full, max(start, 1)


def completion_logprobs(
    model: Any, tokenizer: Any, items: Sequence[tuple[str, str]], *, batch_size: int = 8
) -> list[float]:
    """Sum of log p(completion tokens | prompt) for each (prompt, completion)."""
    import torch

    encoded = [_completion_ids(tokenizer, prompt, completion) for prompt, completion in items]
    device = next(model.parameters()).device
    scores: list[float] = []
    for first in range(0, len(encoded), batch_size):
        batch = encoded[first : first + batch_size]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        scored = torch.zeros((len(batch), width - 1), dtype=torch.bool)
        for row, (ids, start) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
            # Position t predicts token t + 1: score the predictions of completion tokens.
            scored[row, start - 1 : len(ids) - 1] = True
        input_ids, attention, scored = input_ids.to(device), attention.to(device), scored.to(device)
        with torch.no_grad():
            logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1].float()
        token_logprobs = torch.log_softmax(logits, dim=-1).gather(
            -1, input_ids[:, 1:].unsqueeze(-1)
        )
        sums = (token_logprobs.squeeze(-1) * scored).sum(dim=-1)
        scores.extend(float(value) for value in sums.cpu())
    return scores


def measure_margins(
    model: Any, tokenizer: Any, pairs: Sequence[DPOPair], *, batch_size: int = 8
) -> MarginReport:
    chosen = completion_logprobs(
        model, tokenizer, [(p.prompt, p.chosen) for p in pairs], batch_size=batch_size
    )
    rejected = completion_logprobs(
        model, tokenizer, [(p.prompt, p.rejected) for p in pairs], batch_size=batch_size
    )
    return MarginReport(tuple(c - r for c, r in zip(chosen, rejected, strict=True)))
