"""The reference-judged AJ (aj_ref): one run answers once and judges twice, the reference judge
is recorded, answers from any source go through the same judging step, and without a reference
judge aj_ref is not run and the card says why."""

from dataclasses import asdict

import pytest

from evaluation import ProgressEvent
from evaluation.benchmarks.navab.harness import (
    NO_REFERENCE_JUDGE,
    evaluate,
    judge_answers,
    release_cells,
)
from evaluation.benchmarks.navab.judging import judge_items
from evaluation.benchmarks.navab.lm_eval_tasks import AJ_REF, export_tasks
from evaluation.errors import ModelError, SetupError
from evaluation.lm_eval_runner import load_lm
from evaluation.results import EvaluationResult, read_answers
from tests.evaluation.conftest import PER_CELL, cpu_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tiny_model, letter_a_model, tiny_release, tmp_path_factory):
    events: list[ProgressEvent] = []
    out = tmp_path_factory.mktemp("out")
    result = evaluate(
        cpu_spec(tiny_model),
        tiny_release,
        nations=["us", "fr"],
        seed=3,
        device="cpu",
        max_gen_toks=3,
        reference_judge=cpu_spec(letter_a_model),
        out_dir=out,
        progress=events.append,
    )
    return result, events, out


def test_it_answers_once_and_judges_the_same_answers_twice(run):
    result, events, _ = run
    assert {row.method for row in result.scores} == {"mc", "aj", "aj_ref"}
    by_method: dict[str, dict[str, str]] = {}
    for sample in result.samples:
        if sample.method != "mc":
            by_method.setdefault(sample.method, {})[sample.uid] = sample.details["answer"]
    assert by_method["aj"] == by_method["aj_ref"] == result.answers
    assert len(result.answers) == 2 * 2 * PER_CELL
    n = len(result.answers)
    # One generation per item, two log-likelihoods per item for MC and for each judge.
    assert events[0].total == n * (2 + 1 + 2 + 2)
    assert events[-1] == ProgressEvent("finished", events[0].total, events[0].total)
    assert "aj_ref: reference judge" in [e.stage for e in events]


def test_the_reference_judge_decides_aj_ref(run):
    result, _, _ = run
    # The reference judge always prefers " A": S wins on the pos half only, whatever the answer.
    for row in result.scores:
        if row.method == "aj_ref":
            assert (row.parts["pos"]["value"], row.parts["neg"]["value"]) == (1.0, 0.0)
    assert {s.chosen for s in result.samples if s.method == "aj_ref"} == {"A"}


def test_the_card_records_the_reference_judge_and_its_commands(run, letter_a_model):
    _, _, out = run
    card = EvaluationResult.read(out).card
    assert card.reference_judge is not None
    assert card.reference_judge["pretrained"] == str(letter_a_model)
    assert card.judge is None and card.not_run == {}
    assert f"--reference-judge {letter_a_model}" in card.command
    (ref_command,) = [c for c in card.lm_eval_commands if "/lm_eval/aj_ref" in c]
    assert f"pretrained={letter_a_model}," in ref_command
    assert "navab_aj_ref_us_quoted" in ref_command
    # One export with the answers serves both judges.
    assert sum("--answers" in c for c in card.lm_eval_commands) == 1


def test_answers_from_a_file_are_judged_by_the_same_step(
    run, letter_a_model, tiny_release, tmp_path
):
    """An answers file (an API model's, or this run's) judged outside the run gives the run's
    aj_ref records: the judging step does not care who wrote the answers."""
    result, _, out = run
    answers = read_answers(out / "answers.jsonl")
    cells = release_cells(tiny_release, ["us", "fr"])
    exported = export_tasks(cells, tmp_path, methods=[AJ_REF])
    judge = cpu_spec(letter_a_model)
    records = judge_answers(
        load_lm(judge, "cpu"), judge, judge_items(cells, answers), AJ_REF, exported, seed=3
    )
    mine = sorted((asdict(r) for r in records), key=lambda r: r["uid"])
    site = sorted((asdict(s) for s in result.samples if s.method == AJ_REF), key=lambda r: r["uid"])
    assert mine == site


def test_an_item_without_an_answer_is_left_out_not_judged_blank(tiny_release):
    cells = release_cells(tiny_release, ["us"], ["quoted"])
    (first, second) = cells[("us", "quoted")]
    items = judge_items(cells, {first.uid: "It should."})
    assert [(i.uid, i.answer, i.half, i.option_a) for i in items[("us", "quoted")]] == [
        (first.uid, "It should.", first.half, first.option_a)
    ]
    assert second.uid not in {i.uid for i in items[("us", "quoted")]}


def test_without_a_reference_judge_aj_ref_is_skipped_and_the_card_says_why(
    tiny_model, tiny_release
):
    result = evaluate(
        cpu_spec(tiny_model), tiny_release, nations=["us"], modes=["quoted"], device="cpu",
        max_gen_toks=2,
    )  # fmt: skip
    assert {row.method for row in result.scores} == {"mc", "aj"}
    assert result.card.not_run == {"aj_ref": NO_REFERENCE_JUDGE}
    assert result.card.reference_judge is None
    with pytest.raises(SetupError, match="aj_ref needs a reference judge"):
        evaluate(cpu_spec(tiny_model), tiny_release, methods=["aj_ref"], device="cpu")


def test_a_chat_models_free_answers_are_judged_by_the_reference_judge(
    tiny_model, letter_a_model, tiny_release, tmp_path, monkeypatch
):
    """A served chat model (no log-likelihoods) writes its answers over real HTTP; the same
    judging step scores them with the reference judge, and its card gives the stock commands."""
    from evaluation.providers import metering
    from tests.evaluation.test_generative_mc import KEY, chat_spec
    from tests.openai_server import OpenAIServer

    monkeypatch.setenv("GEN_TEST_KEY", KEY)
    with OpenAIServer(tiny_model) as server, metering(cache_dir=tmp_path / "cache"):
        # One reply per request, in order: the four letters first, then the free answers.
        server.inject(*["reply:A"] * 4, "reply:It should, for the common good.", "blocked")
        result = evaluate(
            chat_spec(server.chat_url),
            tiny_release,
            nations=["us"],
            seed=5,
            max_gen_toks=4,
            reference_judge=cpu_spec(letter_a_model),
            out_dir=tmp_path / "out",
        )
    assert {s.method for s in result.samples} == {"mc_gen", "aj_ref"}
    judged = [s for s in result.samples if s.method == "aj_ref"]
    assert len(judged) == len(result.answers) == 2 * PER_CELL
    assert "It should, for the common good." in result.answers.values()
    assert {s.details["answer"] for s in judged} == set(result.answers.values())
    # The reference judge decided, not the chat model; the withheld response is no answer
    # (not the client's marker): it chose nothing, scores 0, and is counted.
    assert sorted(s.chosen for s in judged) == ["", "A", "A", "A"]
    [withheld] = [s for s in judged if s.parts["answer"] == "empty"]
    assert (withheld.chosen, withheld.value, withheld.details["answer"]) == ("", 0.0, "")
    assert "" in result.answers.values() and not any("[[" in a for a in result.answers.values())
    rows = [r for r in result.scores if r.method == "aj_ref"]
    assert sum(r.parts["empty"]["n"] or 0 for r in rows) == 1
    assert result.card.reference_judge is not None
    (ref_command,) = [c for c in result.card.lm_eval_commands if "/lm_eval/aj_ref" in c]
    assert ref_command.startswith("lm_eval run --model hf ") and "--device cpu" in ref_command
    (gen_command,) = [c for c in result.card.lm_eval_commands if "/lm_eval/aj_gen" in c]
    assert "--model local-chat-completions" in gen_command


def test_empty_free_answers_earn_no_aj_ref_credit_here_or_in_the_stock_task(
    tiny_model, letter_a_model, tiny_release, tmp_path, monkeypatch
):
    """A judge that always says A would credit every empty answer on the half where S is A;
    an empty answer is no answer: 0, counted, in the site's score and the exported task."""
    from evaluation.benchmarks.navab.lm_eval_tasks import _task_config
    from evaluation.providers import metering
    from evaluation.providers.letters import process_judged
    from tests.evaluation.test_generative_mc import KEY, chat_spec
    from tests.openai_server import OpenAIServer

    monkeypatch.setenv("GEN_TEST_KEY", KEY)
    with OpenAIServer(tiny_model) as server, metering(cache_dir=tmp_path / "cache"):
        server.inject(*["reply:A"] * 4, *["reply:   "] * 4)
        result = evaluate(
            chat_spec(server.chat_url),
            tiny_release,
            nations=["us"],
            max_gen_toks=4,
            reference_judge=cpu_spec(letter_a_model),
            out_dir=tmp_path / "out",
        )
    judged = [s for s in result.samples if s.method == "aj_ref"]
    assert {s.details["answer"] for s in judged} == {""}
    assert {(s.value, s.chosen, s.parts["answer"]) for s in judged} == {(0.0, "", "empty")}
    assert {s.parts["half"] for s in judged} == {"pos", "neg"}
    rows = [r for r in result.scores if r.method == "aj_ref"]
    assert {r.value for r in rows} == {0.0}
    assert sum(r.parts["empty"]["n"] or 0 for r in rows) == len(judged)
    # The stock task scores with the same rule.
    config = _task_config("t", tmp_path / "t.jsonl", AJ_REF, 0)
    assert str(config["process_results"]) == "utils.process_judged"
    leans_to_gold = [(-0.1, True), (-5.0, False)]
    assert process_judged({"gold": 0, "answer": " "}, leans_to_gold) == {"acc": 0.0}
    assert process_judged({"gold": 0, "answer": "It should."}, leans_to_gold) == {"acc": 1.0}
    assert process_judged({"gold": 1, "answer": "It should."}, leans_to_gold) == {"acc": 0.0}


def test_the_judge_sees_the_answer_without_thinking_or_a_blocked_marker():
    from evaluation.benchmarks.navab.judging import free_answer
    from evaluation.providers.letters import BLOCKED

    assert free_answer("<think>They want support.</think> It should.") == "It should."
    assert free_answer("  It should.\n") == "It should."
    assert free_answer(BLOCKED.format(reason="content_filter")) == ""
    assert free_answer("It depends <think>on the") == "It depends"


def test_a_reference_judge_that_cannot_load_is_the_sites_set_up_not_the_model(
    tiny_model, tiny_release, tmp_path
):
    # The evaluated model loads and answers; the judge the site configured does not.
    missing = cpu_spec(tmp_path / "no-judge")
    with pytest.raises(SetupError, match=r"judge .*no-judge: could not load") as raised:
        evaluate(
            cpu_spec(tiny_model), tiny_release, nations=["us"], modes=["quoted"],
            methods=["aj_ref"], device="cpu", max_gen_toks=2, reference_judge=missing,
        )  # fmt: skip
    assert not isinstance(raised.value, ModelError)
