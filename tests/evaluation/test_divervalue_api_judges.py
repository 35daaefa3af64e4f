"""PAA's API judges go through the metered chat client (`evaluation.providers.client`), the one
every served model uses: over real HTTP, a panel of two scripted judges behind a real chat
endpoint gives the same verdicts with 429, 500 and malformed answers injected, every request
is billed once and cached (a rerun pays nothing), the budget stops the panel with its reason,
and the key comes from the worker's secret without reaching the card or the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.benchmarks.divervalue.judges import JudgeSpec, parse_judges
from evaluation.benchmarks.divervalue.release import load_items, write_items
from evaluation.errors import ModelError, SetupError
from evaluation.providers import BudgetExceeded, metering
from evaluation.spec import Serving
from tests.evaluation.conftest import cpu_spec
from tests.openai_server import OpenAIServer
from tests.scripted_judge import chat_completions
from tests.tiny_models import build_tiny_model

pytestmark = pytest.mark.slow  # its runs go through lm-eval, which starts processes

BENCHMARK = get_benchmark("divervalue")
LIMIT = 10  # the first ten items cover the W, L and TIE cases
KEY = "sk-judge-7c2f0d9e41b3"
SECRET = "PAA_JUDGE_KEY"
PRICED = Serving(input_price_per_m=2.0, output_price_per_m=8.0, max_retries=4)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dvb")
    write_items(directory, load_items(BENCHMARK.demo_dir))
    return directory


@pytest.fixture
def server(tiny_model):
    with OpenAIServer(tiny_model, routes={"/v1/chat/completions": chat_completions}) as served:
        yield served


def panel(url: str, serving: Serving = PRICED) -> list[JudgeSpec]:
    return [
        JudgeSpec(
            name=name,
            kind="openai-chat",
            model=name,
            base_url=url,
            api_key_env=SECRET,
            serving=serving,
        )
        for name in ("strict-judge", "chatty-judge")
    ]


def run(tiny_model: Path, release: Path, judges: list[JudgeSpec], out: Path):
    return BENCHMARK.evaluate(
        cpu_spec(tiny_model),
        release,
        methods=["paa"],
        judges=judges,
        device="cpu",
        limit=LIMIT,
        max_gen_toks=8,
        out_dir=out,
    )


def verdicts(result) -> dict[str, tuple[str, list[str]]]:
    return {s.uid: (s.chosen, [j["raw"] for j in s.details["judges"]]) for s in result.samples}


def test_api_judges_give_the_same_verdicts_through_faults_and_a_rerun_pays_nothing(
    tiny_model, release, server, tmp_path, monkeypatch
):
    monkeypatch.setenv(SECRET, KEY)
    judges = panel(server.chat_url)
    with metering(cache_dir=tmp_path / "clean-cache") as clean:
        expected = verdicts(run(tiny_model, release, judges, tmp_path / "clean"))
    assert clean.usage.requests == 2 * LIMIT and clean.usage.retries == 0

    server.inject("429", "500", "malformed")  # the first judge request meets all three
    cache = tmp_path / "cache"
    with metering(cache_dir=cache) as faulty:
        result = run(tiny_model, release, judges, tmp_path / "faulty")
    assert verdicts(result) == expected
    assert {verdict for verdict, _ in expected.values()} >= {"W", "L", "TIE"}
    usage = faulty.usage
    assert (usage.requests, usage.retries, usage.cached) == (2 * LIMIT, 3, 0)
    # The scripted judges send no `usage`: tokens are estimated, and priced.
    assert usage.estimated == 2 * LIMIT and usage.input_tokens > 0 and usage.cost_usd > 0
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}

    # A retried job finds every judge's answer in the cache: nothing is sent or billed.
    sent = len(server.requests)
    with metering(cache_dir=cache) as rerun:
        assert verdicts(run(tiny_model, release, judges, tmp_path / "rerun")) == expected
    assert (rerun.usage.requests, rerun.usage.cached) == (0, 2 * LIMIT)
    assert len(server.requests) == sent

    card = result.card.to_dict()
    assert [j["serving"]["input_price_per_m"] for j in card["judge"]["paa"]["judges"]] == [2.0] * 2
    commands = [c for c in result.card.lm_eval_commands if "divervalue_paa_judge_" in c]
    assert len(commands) == 2
    for command in commands:
        assert "--model local-chat-completions" in command
        assert "--batch_size 1" in command and "--apply_chat_template" in command
        assert command.startswith(f'OPENAI_API_KEY="${SECRET}" ')
    assert KEY not in json.dumps(card, default=str)


def test_the_budget_stops_the_panel_before_a_request_it_cannot_pay_for(
    tiny_model, release, server, tmp_path, monkeypatch
):
    monkeypatch.setenv(SECRET, KEY)
    # A dollar a token: no judge request fits a $0.50 budget, so none is sent (a request is
    # only sent when the budget can pay for the most it could cost).
    costly = Serving(input_price_per_m=1e6)
    sent = len(server.requests)
    with (
        metering(budget_usd=0.5, cache_dir=tmp_path / "cache") as session,
        pytest.raises(BudgetExceeded, match=r"budget of \$0\.5000 is spent"),
    ):
        run(tiny_model, release, panel(server.chat_url, costly), tmp_path / "out")
    assert (session.usage.requests, session.usage.cost_usd) == (0, 0.0)
    assert len(server.requests) == sent


def test_a_judge_without_its_secret_on_the_worker_fails_naming_the_secret(
    tiny_model, release, server, tmp_path, monkeypatch
):
    monkeypatch.delenv(SECRET, raising=False)
    monkeypatch.delenv(f"{SECRET}_FILE", raising=False)
    # The site's judge, not the model: a set-up error that names the secret to set.
    with pytest.raises(SetupError, match=f"no value for the secret {SECRET}"):
        run(tiny_model, release, panel(server.chat_url), tmp_path / "out")
    assert not server.requests  # nothing was sent without the key


def test_a_panel_entry_carries_the_providers_limits_and_refuses_bad_ones():
    [judge] = parse_judges(
        json.dumps(
            [
                {
                    "name": "api",
                    "kind": "openai-chat",
                    "model": "gpt-x",
                    "base_url": "https://api.example/v1/chat/completions",
                    "api_key_env": "JUDGE_KEY",
                    "serving": {"requests_per_minute": 30, "timeout_s": 20},
                }
            ]
        )
    )
    assert judge.serving == Serving(requests_per_minute=30, timeout_s=20)
    spec = judge.model_spec()
    assert (spec.kind, spec.batch_size, spec.apply_chat_template) == ("openai-chat", 1, True)
    assert spec.to_lm_eval_args()["timeout"] == 20
    base = {"kind": "openai-chat", "model": "m", "base_url": "https://a.example/v1"}
    for entry, message in [
        ({**base, "serving": {"timeout_s": 0}}, "timeout must be at least 1 second"),
        ({**base, "serving": {"speed": 1}}, "unexpected keyword argument 'speed'"),
        ({**base, "serving": 3}, "serving is an object"),
        ({**base, "api_key_env": "sk-123"}, "a secret name is an environment variable name"),
        ({"model": "/models/j", "api_key_env": "KEY"}, "serving and api_key_env are for"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_judges(json.dumps([entry]))


def test_paa_alone_without_a_panel_is_the_sites_set_up_not_the_models(tiny_model, release):
    from evaluation.benchmarks.divervalue.methods import NoJudgePanel

    # A SetupError: the job fails as the site's set-up, never blames the model.
    with pytest.raises(NoJudgePanel, match="EVAL_PAA_JUDGES is empty") as raised:
        run(tiny_model, release, [], Path("unused"))
    assert isinstance(raised.value, SetupError) and not isinstance(raised.value, ModelError)


@pytest.mark.slow
def test_a_chat_models_card_reproduces_its_paa_answers_with_stock_lm_eval(
    tiny_model, release, tmp_path, monkeypatch
):
    import shlex
    import shutil
    import subprocess
    import sys

    from evaluation.spec import ModelSpec

    with OpenAIServer(tiny_model) as served:
        # The judges' names get the scripted verdicts; the chat model is the tiny model.
        def route(body):
            judged = body.get("model") in ("strict-judge", "chatty-judge")
            return chat_completions(body) if judged else served.chat_completions(body)

        served.routes["/v1/chat/completions"] = route
        monkeypatch.setenv(SECRET, KEY)
        chat = ModelSpec(
            kind="openai-chat",
            pretrained="tiny-chat",
            base_url=served.chat_url,
            batch_size=1,
            apply_chat_template=True,
        )
        out = tmp_path / "out"
        with metering(cache_dir=tmp_path / "cache"):
            result = BENCHMARK.evaluate(
                chat,
                release,
                methods=["paa"],
                judges=panel(served.chat_url, Serving())[:1],
                device="cpu",
                limit=LIMIT,
                max_gen_toks=8,
                out_dir=out,
            )
        commands = result.card.lm_eval_commands
        assert result.card.methods == ["paa"] and "opa" not in json.dumps(commands)
        export, answer = commands[0], commands[1]
        assert "--methods paa" in export and "--answers" in commands[2]
        assert answer.startswith("lm_eval run --model local-chat-completions")
        for part in ("--apply_chat_template", "--batch_size 1", f"--include_path {out}/tasks"):
            assert part in answer
        # Export anew, as a reader would, then the stock run against the same endpoint.
        shutil.rmtree(out / "tasks")
        argv = shlex.split(export)
        subprocess.run([sys.executable, *argv[1:]], check=True, capture_output=True)
        argv = shlex.split(answer)
        subprocess.run(
            [sys.executable, "-m", "lm_eval", *argv[1:]], check=True, capture_output=True
        )
    [samples_file] = (out / "paa").glob("**/samples_divervalue_paa_answer_*.jsonl")
    stock = {
        json.loads(line)["doc"]["uid"]: json.loads(line)["filtered_resps"][0].strip()
        for line in samples_file.read_text().splitlines()
    }
    assert stock == result.answers and len(stock) == LIMIT
