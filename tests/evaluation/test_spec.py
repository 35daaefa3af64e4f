import pytest

from evaluation.errors import ModelError, SetupError
from evaluation.lm_eval_runner import load_lm
from evaluation.spec import ModelSpec, parse_model_ref, vllm_available

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_hub_models_must_be_pinned_to_a_commit():
    with pytest.raises(ValueError, match="40-character commit"):
        ModelSpec(pretrained="org/model")
    with pytest.raises(ValueError, match="40-character commit"):
        ModelSpec(pretrained="org/model", revision="main")
    assert ModelSpec(pretrained="org/model", revision=SHA).to_lm_eval_args()["revision"] == SHA


def test_local_paths_need_no_revision(tmp_path):
    args = ModelSpec(pretrained=str(tmp_path), dtype="bfloat16").to_lm_eval_args()
    assert args == {"pretrained": str(tmp_path), "dtype": "bfloat16", "trust_remote_code": False}


@pytest.mark.parametrize("kind", ["hf", "vllm"])
def test_remote_code_is_never_trusted(kind):
    spec = ModelSpec(pretrained="org/model", revision=SHA, kind=kind)
    assert spec.to_lm_eval_args()["trust_remote_code"] is False
    assert "trust_remote_code=False" in spec.model_args_string()


def test_endpoint_models_need_a_url_and_keep_the_key_out_of_args(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-secret")
    with pytest.raises(ValueError, match="base_url"):
        ModelSpec(pretrained="served", kind="openai-completions")
    spec = ModelSpec(
        pretrained="served",
        kind="openai-completions",
        base_url="http://127.0.0.1:8000/v1/completions",
        api_key_env="MY_KEY",
    )
    assert spec.lm_eval_model == "local-completions"
    assert spec.to_lm_eval_args()["base_url"] == "http://127.0.0.1:8000/v1/completions"
    assert "sk-secret" not in spec.model_args_string()


@pytest.mark.parametrize(
    ("field", "value"), [("dtype", "int4"), ("batch_size", 0), ("batch_size", "big"), ("kind", "x")]
)
def test_it_rejects_invalid_settings(tmp_path, field, value):
    with pytest.raises(ValueError):
        ModelSpec(pretrained=str(tmp_path), **{field: value})


@pytest.mark.skipif(vllm_available(), reason="vLLM is installed here")
def test_vllm_without_the_package_is_the_sites_set_up_not_the_model(tmp_path):
    with pytest.raises(SetupError, match="vLLM is not installed"):
        load_lm(ModelSpec(pretrained=str(tmp_path), kind="vllm"), "cpu")


def test_an_unloadable_model_is_a_model_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="could not load"):
        load_lm(ModelSpec(pretrained=str(tmp_path)), "cpu")


def test_a_model_named_in_one_setting_is_a_pinned_hub_id_or_a_local_directory():
    commit = "0123456789abcdef0123456789abcdef01234567"
    hub = parse_model_ref(f"org/judge@{commit}", dtype="bfloat16")
    assert (hub.pretrained, hub.revision, hub.dtype, hub.kind) == (
        "org/judge",
        commit,
        "bfloat16",
        "hf",
    )
    local = parse_model_ref("/srv/models/judge")
    assert (local.pretrained, local.revision, local.is_local) == ("/srv/models/judge", None, True)
    with pytest.raises(ValueError, match="40-character commit"):
        parse_model_ref("org/judge")
    with pytest.raises(ValueError, match="40-character commit"):
        parse_model_ref("org/judge@main")
