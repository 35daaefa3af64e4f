"""Issue 21, item 1 for alignment jobs: DPO + LoRA training needs its own memory (weights once,
LoRA weights with their gradients and Adam state, activations of the chosen and rejected
sequences, the logits), on one GPU; the formula is in `evaluation.alignment.memory`."""

from __future__ import annotations

import pytest

from evaluation.alignment.memory import MARGIN, Shape, dpo_lora_need
from evaluation.alignment.train import DPOSettings
from evaluation.capacity import Capacity, NoCapacity, memory_need_gb, route

LLAMA_7B = {
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "vocab_size": 32000,
    "intermediate_size": 11008,
}
LLAMA_70B = {
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "vocab_size": 32000,
    "intermediate_size": 28672,
}
ONE, EIGHT = Capacity(1, 80), Capacity(8, 80)


def test_a_shape_is_read_from_llama_and_gpt2_configs():
    assert Shape.from_config(LLAMA_7B) == Shape(4096, 32, 32, 32000, 11008)
    gpt2 = {"n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257}
    assert Shape.from_config(gpt2) == Shape(768, 12, 12, 50257, 4 * 768)  # no n_inner: 4h
    assert Shape.from_config({"text_config": LLAMA_7B}) == Shape.from_config(LLAMA_7B)
    assert Shape.from_config({"hidden_size": 4096}) is None
    assert Shape.from_config({**LLAMA_7B, "num_hidden_layers": True}) is None


def test_a_7b_llama_with_the_default_settings_needs_about_48_gb_on_one_gpu():
    settings = DPOSettings()  # batch 4, 512 tokens, rank 16, q and v adapted
    need = dpo_lora_need(6.74e9, Shape.from_config(LLAMA_7B), settings)
    assert need.weights == 6.74e9 * 2  # bfloat16, shared by the policy and the reference
    assert need.lora == 16 * 32 * 2 * (4096 + 11008) * 16  # fp32 weight, grad, Adam m and v
    sequences = 2 * 4  # chosen and rejected of each pair
    assert need.activations == 32 * sequences * 512 * 4096 * (34 + 5 * 32 * 512 / 4096)
    assert need.logits == sequences * 512 * 32000 * 4 * 2
    total = (need.weights + need.lora + need.activations + need.logits) * (1 + MARGIN) / 1e9
    assert need.gb == pytest.approx(total) and 47 < need.gb < 49
    # More than scoring the same model needs: its route is its own.
    assert need.gb > memory_need_gb(6.74e9, "bfloat16")
    assert "DPO + LoRA training: 13.5 GB weights + " in need.explain()
    assert need.explain().endswith(f"= {need.gb:.3g} GB on one GPU")


def test_the_settings_change_the_need():
    shape = Shape.from_config(LLAMA_7B)
    default = dpo_lora_need(6.74e9, shape, DPOSettings())
    checkpointed = dpo_lora_need(6.74e9, shape, DPOSettings(gradient_checkpointing=True))
    assert checkpointed.activations < default.activations / 10
    bigger = dpo_lora_need(6.74e9, shape, DPOSettings(batch_size=8, max_length=1024))
    assert bigger.activations > 4 * default.activations
    every_linear = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    wide = dpo_lora_need(6.74e9, shape, DPOSettings(target_modules=every_linear, lora_r=64))
    assert wide.lora == 4 * 7 / 2 * default.lora


def test_training_is_routed_to_a_capacity_whose_one_gpu_holds_it():
    need_7b = dpo_lora_need(6.74e9, Shape.from_config(LLAMA_7B), DPOSettings()).gb
    site = (Capacity(2, 24), ONE, EIGHT)
    assert route(need_7b, site, one_gpu=True) == ONE
    # Scoring the same model goes to the small GPUs; training does not fit them.
    assert route(memory_need_gb(6.74e9, "bfloat16"), site) == Capacity(2, 24)
    need_70b = dpo_lora_need(70e9, Shape.from_config(LLAMA_70B), DPOSettings()).gb
    with pytest.raises(
        NoCapacity, match=r"largest GPU .* has 80 GB \(1x80g\), and this runs on one"
    ):
        route(need_70b, (ONE, EIGHT), one_gpu=True)
    # Unknown need: the capacity with the largest GPU.
    assert route(None, (Capacity(8, 40), ONE), one_gpu=True) == ONE
