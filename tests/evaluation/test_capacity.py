"""Issue 21, item 1: what a model needs, which capacity it goes to, how it is laid out."""

from __future__ import annotations

import pytest

from evaluation.capacity import (
    MEMORY_MARGIN,
    Capacity,
    Layout,
    NoCapacity,
    explain_need,
    memory_need_gb,
    parse_capacities,
    parse_capacity,
    plan_layout,
    route,
    snap,
    worker_capacity,
)

ONE, EIGHT = Capacity(1, 80), Capacity(8, 80)


def test_a_model_needs_its_weights_in_the_precision_plus_the_stated_margin():
    assert memory_need_gb(7e9, "bfloat16") == pytest.approx(14 * (1 + MEMORY_MARGIN))
    assert memory_need_gb(7e9, "float32") == pytest.approx(28 * (1 + MEMORY_MARGIN))
    assert memory_need_gb(7e9, "auto") == memory_need_gb(7e9, "float16")
    assert "70.0B parameters x 2 bytes in bfloat16 + 25%" in explain_need(70e9, "bfloat16")
    with pytest.raises(ValueError, match="unknown precision"):
        memory_need_gb(7e9, "int3")


def test_a_job_goes_to_the_smallest_capacity_that_holds_its_model():
    capacities = parse_capacities("8x80g, 1x80g, 2x24g")
    assert [c.name for c in capacities] == ["2x24g", "1x80g", "8x80g"]
    assert route(memory_need_gb(7e9, "bfloat16"), capacities) == Capacity(2, 24)
    assert route(memory_need_gb(30e9, "bfloat16"), capacities) == ONE
    assert route(memory_need_gb(70e9, "bfloat16"), capacities) == EIGHT
    # Unknown size: the largest, where it is likeliest to fit; nothing configured: no route.
    assert route(None, capacities) == EIGHT
    assert route(memory_need_gb(70e9, "bfloat16"), ()) is None


def test_a_model_no_capacity_holds_is_refused_with_the_largest_named():
    with pytest.raises(NoCapacity, match=r"8 x 80 GB \(8x80g\), 640 GB in all"):
        route(memory_need_gb(405e9, "bfloat16"), (ONE, EIGHT))


@pytest.mark.parametrize("text", ["80g", "0x80g", "8x", "8x-1g", "eight x 80g"])
def test_a_capacity_is_written_gpus_x_memory(text):
    with pytest.raises(ValueError, match="capacity"):
        parse_capacity(text)


def test_capacities_name_their_queues():
    assert parse_capacity("8x80GB") == EIGHT
    assert EIGHT.queue_role == "gpu.8x80g"
    assert Capacity(2, 0.0005).queue_role == "gpu.2x0.0005g"


def test_vllm_shards_a_model_larger_than_one_gpu_and_fills_the_node_with_copies():
    need_70b = memory_need_gb(70e9, "bfloat16")  # 175 GB: three 80 GB GPUs, tensor parallel 4
    assert plan_layout(need_70b, EIGHT, "vllm") == Layout(shards=4, replicas=2)
    assert plan_layout(memory_need_gb(7e9, "bfloat16"), EIGHT, "vllm") == Layout(1, 8)
    assert plan_layout(memory_need_gb(7e9, "bfloat16"), ONE, "vllm") == Layout()
    assert plan_layout(None, EIGHT, "vllm") == Layout(shards=8)


def test_transformers_shards_across_every_gpu_or_runs_a_copy_on_each():
    assert plan_layout(memory_need_gb(70e9, "bfloat16"), EIGHT, "hf") == Layout(shards=8)
    # A model that fits one GPU runs a copy on each (one process per GPU): the whole node.
    assert plan_layout(memory_need_gb(7e9, "bfloat16"), EIGHT, "hf") == Layout(replicas=8)
    assert plan_layout(memory_need_gb(7e9, "bfloat16"), ONE, "hf") == Layout()
    assert plan_layout(memory_need_gb(70e9, "bfloat16"), None, "hf") == Layout()


def test_layouts_are_described_for_the_card():
    assert Layout().describe("hf") == "one device"
    assert Layout(8).describe("hf") == "sharded across 8 GPUs (transformers device_map)"
    assert Layout(4, 2).describe("vllm") == (
        "sharded across 4 GPUs (vLLM tensor parallel), 2 data-parallel copies"
    )
    assert Layout(replicas=8).describe("hf") == (
        "8 data-parallel copies (one transformers process per GPU)"
    )


def test_a_detected_gpu_is_named_as_the_configured_size_it_matches():
    configured = (Capacity(1, 40), ONE, EIGHT)
    assert snap(Capacity(1, 79.6), configured) == ONE  # an H100 reports 79.6 GiB
    assert snap(Capacity(1, 39.4), configured) == Capacity(1, 40)
    assert snap(Capacity(8, 79.6), configured) == EIGHT
    assert snap(Capacity(4, 79.6), configured) == Capacity(4, 79.6)  # no such size here


def test_a_worker_declares_its_capacity_by_environment():
    declared = {"EVAL_WORKER_GPUS": "2", "EVAL_WORKER_GPU_MEMORY_GB": "0.0005"}
    assert worker_capacity(declared) == Capacity(2, 0.0005)
    # A worker told to run on the CPU declares nothing unless told to (no device probe).
    assert worker_capacity({"EVAL_DEVICE": "cpu"}) is None
    with pytest.raises(ValueError, match="both"):
        worker_capacity({"EVAL_WORKER_GPUS": "2"})
    with pytest.raises(ValueError, match="EVAL_WORKER_GPUS"):
        worker_capacity({"EVAL_WORKER_GPUS": "two", "EVAL_WORKER_GPU_MEMORY_GB": "80"})
