"""Issue 21, items 2 and 3: the layout and vLLM options are lm-eval model_args, so the stock
command on a card runs the job as the worker ran it."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace

import pytest

from evaluation import repro
from evaluation.cli import build_parser
from evaluation.model_check import context_length, read_config
from evaluation.spec import ModelSpec

SHA = "0123456789abcdef0123456789abcdef01234567"


def command(spec: ModelSpec) -> str:
    return repro.lm_eval_command(spec, ["navab_mc"], "tasks", "out", seed=1, device="cuda")


def test_vllm_runs_with_prefix_caching_and_the_models_context():
    spec = ModelSpec(pretrained="org/model", revision=SHA, kind="vllm", max_length=4096)
    args = spec.to_lm_eval_args()
    assert args["enable_prefix_caching"] is True
    assert args["max_model_len"] == 4096
    assert "max_length" not in args  # vLLM's own name for it, which sizes its KV cache
    assert (args["tensor_parallel_size"], args["data_parallel_size"]) == (1, 1)


def test_a_sharded_vllm_run_is_reproduced_by_the_stock_command():
    spec = ModelSpec(pretrained="org/model", revision=SHA, kind="vllm", shards=4, replicas=2)
    printed = command(spec)
    assert printed.startswith("lm_eval run --model vllm --model_args pretrained=org/model,")
    assert "tensor_parallel_size=4,data_parallel_size=2,enable_prefix_caching=True" in printed


def test_a_transformers_model_larger_than_one_gpu_is_sharded_by_lm_eval_parallelize():
    spec = ModelSpec(pretrained="org/model", revision=SHA, shards=8)
    assert spec.to_lm_eval_args()["parallelize"] is True
    assert "parallelize=True" in command(spec)
    one = ModelSpec(pretrained="org/model", revision=SHA)
    assert "parallelize" not in one.to_lm_eval_args()
    assert "parallel" not in command(one)


def test_transformers_copies_side_by_side_are_accelerates_processes_in_the_stock_command():
    spec = ModelSpec(pretrained="org/model", revision=SHA, dtype="bfloat16", replicas=8)
    printed = command(spec)
    assert printed.startswith(
        "accelerate launch --multi_gpu --num_processes 8 -m lm_eval run --model hf "
        "--model_args pretrained=org/model,dtype=bfloat16,revision="
    )
    assert "parallel" not in spec.model_args_string()  # the processes are the layout
    # vLLM's copies are its own data_parallel_size: no launcher.
    assert command(replace(spec, kind="vllm")).startswith("lm_eval run --model vllm")


def test_the_evaluation_run_command_carries_the_layout_and_parses_back(tmp_path):
    def run_command(spec: ModelSpec) -> str:
        return repro.run_command(
            spec,
            None,
            tmp_path,
            "out",
            benchmark="navab",
            methods=["mc"],
            slices={},
            seed=1,
            device="cuda",
            limit=None,
            max_gen_toks=3,
        )

    for spec in (
        ModelSpec(pretrained="org/model", revision=SHA, replicas=8),
        ModelSpec(pretrained="org/model", revision=SHA, shards=8),
        ModelSpec(pretrained="org/model", revision=SHA, kind="vllm", shards=4, replicas=2),
    ):
        printed = shlex.split(run_command(spec))
        args = build_parser().parse_args(printed[3:])
        assert (args.kind, args.shards, args.replicas) == (spec.kind, spec.shards, spec.replicas)
    one = run_command(ModelSpec(pretrained="org/model", revision=SHA))
    assert "--shards" not in one and "--replicas" not in one


def test_a_sharded_transformers_model_has_one_copy_and_served_models_have_no_layout():
    with pytest.raises(ValueError, match="spans the whole node"):
        ModelSpec(pretrained="org/model", revision=SHA, shards=2, replicas=2)
    with pytest.raises(ValueError, match="no GPU layout"):
        ModelSpec(pretrained="m", kind="openai-completions", base_url="http://h/v1", shards=2)
    with pytest.raises(ValueError, match="at least 1"):
        ModelSpec(pretrained="org/model", revision=SHA, shards=0)


def test_the_context_is_read_from_the_models_config(tmp_path):
    assert context_length({"max_position_embeddings": 8192, "n_positions": 1}) == 8192
    assert context_length({"n_positions": 1024}) == 1024  # GPT-2's name for it
    assert context_length({"text_config": {"max_position_embeddings": 32768}}) == 32768
    assert context_length({"max_position_embeddings": True}) is None
    assert context_length({}) is None
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 2048}))
    assert context_length(read_config(str(tmp_path), None)) == 2048
