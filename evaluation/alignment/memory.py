"""GPU memory a DPO + LoRA alignment job needs, so it is routed by its own need, not by the
need of scoring the same model (`evaluation.capacity` holds the scoring formula and routes).

Training runs in one process on one GPU (`train.train_dpo`), with trl's DPOTrainer given a
peft LoRA config and no reference model: trl then computes the reference log-probabilities
with the same base weights, the adapter disabled, so the weights are held once. In bytes:

    weights      P x 2                          (bfloat16, what train_dpo loads on a GPU)
    LoRA         N x 16, N = r x L x M x (h + f) (fp32 adapter weight, its gradient, Adam's
                                                 two moments: 4 + 4 + 8 bytes, the per-parameter
                                                 count of ZeRO, Rajbhandari et al. 2020, sec. 3;
                                                 peft keeps adapters in float32)
    activations  L x B2 x s x h x (34 + 5 a s / h)
                                                (per layer, 16-bit, no recomputation: Korthikanti
                                                 et al. 2022, "Reducing Activation Recomputation
                                                 in Large Transformer Models", sec. 4.1, eq. 1;
                                                 with gradient checkpointing, each layer's input
                                                 2 x B2 x s x h x L plus one layer's in full)
    logits       B2 x s x V x 4 x 2             (float32 logits and their log-softmax, which
                                                 DPO takes over the whole vocabulary)

P parameters, L layers, h hidden size, f the MLP's inner size (4h where the config does not
say), a attention heads, V the vocabulary, M the adapted modules per layer (peft's default for
decoder models adapts two: the query and value projections), r the LoRA rank, s the
sequence length (`max_length`) and B2 = 2 x batch size (trl scores the chosen and the
rejected answer of each pair in one forward pass). h + f bounds one module's d_in + d_out (an
attention projection's is 2h at most). The sum takes a further MARGIN for the CUDA context,
the allocator's fragmentation and temporary buffers.

A 7B Llama (h 4096, L 32, a 32, V 32000) with the site's defaults (batch 4, 512 tokens, rank
16) needs about 48 GB: one 80 GB GPU. A model whose shape is not known (its config cannot be
read) has no estimate: it goes where a model of unknown size goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evaluation.alignment.train import DPOSettings

#: on top of the sum, for the CUDA context, fragmentation and temporary buffers
MARGIN = 0.1
#: bytes per weight in training: bfloat16 on a GPU (`train.precision`)
WEIGHT_BYTES = 2.0
#: fp32 LoRA weight + gradient + Adam's first and second moments
LORA_BYTES = 16.0
#: adapted modules per layer where none are named (peft's default: q_proj and v_proj)
DEFAULT_MODULES = 2

_KEYS = {
    "hidden": ("hidden_size", "n_embd", "d_model"),
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "heads": ("num_attention_heads", "n_head"),
    "vocab": ("vocab_size",),
    "inner": ("intermediate_size", "n_inner", "ffn_dim"),
}


@dataclass(frozen=True)
class Shape:
    """What the formula reads of a model's architecture."""

    hidden: int
    layers: int
    heads: int
    vocab: int
    inner: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Shape | None:
        """From a config.json (a multimodal model's text part where it has one); None where
        a size is missing."""
        text = config.get("text_config")
        source = text if isinstance(text, Mapping) else config
        found: dict[str, int] = {}
        for field, keys in _KEYS.items():
            value = next((source[k] for k in keys if isinstance(source.get(k), int)), None)
            if value is not None and not isinstance(value, bool) and value > 0:
                found[field] = value
        if not {"hidden", "layers", "heads", "vocab"} <= found.keys():
            return None
        found.setdefault("inner", 4 * found["hidden"])
        return cls(**found)


@dataclass(frozen=True)
class TrainingNeed:
    """The terms of the sum, in bytes."""

    weights: float
    lora: float
    activations: float
    logits: float

    @property
    def gb(self) -> float:
        return (self.weights + self.lora + self.activations + self.logits) * (1 + MARGIN) / 1e9

    def explain(self) -> str:
        terms = {
            "weights": self.weights,
            "LoRA weights, gradients and Adam state": self.lora,
            "activations": self.activations,
            "logits": self.logits,
        }
        listed = " + ".join(f"{value / 1e9:.3g} GB {name}" for name, value in terms.items())
        return f"DPO + LoRA training: {listed} + {MARGIN:.0%} = {self.gb:.3g} GB on one GPU"


def dpo_lora_need(params: float, shape: Shape, settings: DPOSettings) -> TrainingNeed:
    """The memory one DPO + LoRA run of SETTINGS on a model of PARAMS parameters and SHAPE
    needs on its GPU (the formula above)."""
    h, layers, s = shape.hidden, shape.layers, settings.max_length
    sequences = 2 * settings.batch_size
    modules = len(settings.target_modules) if settings.target_modules else DEFAULT_MODULES
    lora_params = settings.lora_r * layers * modules * (h + shape.inner)
    per_layer = sequences * s * h * (34 + 5 * shape.heads * s / h)
    if settings.gradient_checkpointing:
        activations = 2 * sequences * s * h * layers + per_layer
    else:
        activations = layers * per_layer
    return TrainingNeed(
        weights=params * WEIGHT_BYTES,
        lora=lora_params * LORA_BYTES,
        activations=activations,
        logits=sequences * s * shape.vocab * 4 * 2,
    )
