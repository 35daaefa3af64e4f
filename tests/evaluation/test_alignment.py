"""Alignment toward a nation: DPO pairs, the topic split, the held-out release, DPO + LoRA."""

import json

import pytest

from evaluation.alignment import DPOSettings, train_dpo
from evaluation.benchmarks.navab.alignment.margins import load_scoring_model, measure_margins
from evaluation.benchmarks.navab.alignment.pairs import build_pairs, select_records
from evaluation.benchmarks.navab.alignment.pairset import prepare_pairs, write_pair_set
from evaluation.benchmarks.navab.alignment.source import read_release_source
from evaluation.benchmarks.navab.alignment.split import group_key, split_by_topic
from evaluation.benchmarks.navab.prompts import answer_prompt
from evaluation.benchmarks.navab.records import TripleRecord, iter_triples, write_release
from evaluation.cli import main
from evaluation.release import load_manifest
from pipeline.__main__ import main as pipeline_main
from pipeline.checkpoint import DONE_FILE, write_jsonl
from pipeline.pair_source import read_pre_cr_source
from pipeline.release import RELEASE_SUBDIR
from pipeline.runner import stage_dir


def record(uid, topic="", nation="us", mode="quoted", i=0):
    return TripleRecord(
        uid=uid,
        nation=nation,
        mode=mode,
        question=f"Should the government adopt policy {i}?",
        statement=f"The nation supports policy {i}.",
        reverse_statement=f"The nation opposes policy {i}.",
        topic=topic,
    )


def topical_records(nations=("us", "cn"), topics=8, per_topic=3, untopiced=4):
    records = []
    for nation in nations:
        for t in range(topics):
            for k in range(per_topic):
                mode = ("quoted", "official")[k % 2]
                records.append(record(f"{nation}-t{t}-{k}", f"topic {t}", nation, mode, t * 10 + k))
        records += [
            record(f"{nation}-u{k}", "", nation, "official", 900 + k) for k in range(untopiced)
        ]
    return records


@pytest.fixture
def release_dir(tmp_path):
    directory = tmp_path / "release"
    write_release(directory, topical_records(), {"version": "r1"})
    return directory


def test_pairs_prompt_with_the_free_answer_framing_and_prefer_the_statement():
    triple = TripleRecord(
        uid="u1",
        nation="fr",
        mode="official",
        question="Q?",
        statement=" S. ",
        reverse_statement="RS.",
        topic="t",
    )
    (pair,) = build_pairs([triple])
    assert pair.prompt == answer_prompt("Q?")
    assert (pair.chosen, pair.rejected) == (" S.", " RS.")
    assert (pair.uid, pair.nation, pair.mode, pair.topic) == ("u1", "fr", "official", "t")


def test_select_records_keeps_one_nation_and_the_chosen_modes():
    records = topical_records()
    us_all = select_records(records, "us")
    assert us_all and {r.nation for r in us_all} == {"us"}
    assert {r.mode for r in us_all} == {"quoted", "official"}
    quoted = select_records(records, "us", ["quoted"])
    assert quoted and {(r.nation, r.mode) for r in quoted} == {("us", "quoted")}
    with pytest.raises(ValueError, match="unknown nation"):
        select_records(records, "xx")
    with pytest.raises(ValueError, match="modes must be among"):
        select_records(records, "us", ["source"])


def test_split_never_puts_a_topic_on_both_sides():
    records = select_records(topical_records(topics=20), "us")
    split = split_by_topic(records, test_fraction=0.3, seed=3)
    assert split.test_uids and split.train_uids
    assert set(split.test_uids).isdisjoint(split.train_uids)
    assert set(split.test_uids) | set(split.train_uids) == {r.uid for r in records}
    sides: dict[str, set[bool]] = {}
    for r in records:
        sides.setdefault(r.topic, set()).add(split.is_test(r))
    assert all(len(s) == 1 for topic, s in sides.items() if topic)
    report = split.to_dict()
    assert set(report["test"]["topics"]).isdisjoint(report["train"]["topics"])
    assert report["test"]["uids"] == sorted(split.test_uids)
    assert report["train"]["items_without_topic"] + report["test"]["items_without_topic"] == 4


def test_split_is_deterministic_for_a_seed():
    records = select_records(topical_records(topics=20), "us")
    first = split_by_topic(records, seed=5)
    assert split_by_topic(list(reversed(records)), seed=5) == first
    others = {split_by_topic(records, seed=s).test_groups for s in range(6, 12)}
    assert any(groups != first.test_groups for groups in others)


def test_a_topic_keeps_its_side_when_other_items_come_and_go():
    # The pre-Conflict-Reduction statements are a superset of the release's: a held-out topic
    # must stay held out in both, or the released test items would be trained on.
    full = select_records(topical_records(topics=20), "us")
    subset = [r for i, r in enumerate(full) if i % 3 != 1]
    big, small = split_by_topic(full, seed=1), split_by_topic(subset, seed=1)
    assert all(big.is_test(r) == small.is_test(r) for r in subset)


def test_split_holds_out_a_topic_even_when_the_hash_would_not():
    records = [record("a", "alpha"), record("b", "beta")]
    low = split_by_topic(records, test_fraction=1e-9)
    high = split_by_topic(records, test_fraction=1 - 1e-9)
    assert len(low.test_groups) == len(high.test_groups) == 1
    assert len(low.train_groups) == len(high.train_groups) == 1
    with pytest.raises(ValueError, match="at least two topics"):
        split_by_topic([record("a", "alpha"), record("b", "alpha")])
    with pytest.raises(ValueError, match="test_fraction"):
        split_by_topic(records, test_fraction=1.0)


def test_items_without_a_topic_are_grouped_by_uid():
    assert group_key(record("abc")) == "uid:abc"
    assert group_key(record("abc", " trade ")) == "topic:trade"


def test_heldout_release_round_trips_and_holds_only_untrained_topics(release_dir, tmp_path):
    pair_set = prepare_pairs(read_release_source(release_dir), "us", seed=2)
    heldout_dir = write_pair_set(pair_set, tmp_path / "pairs")
    heldout = list(iter_triples(heldout_dir))
    assert heldout == pair_set.heldout and heldout
    assert {r.nation for r in heldout} == {"us"}
    trained_topics = {p.topic for p in pair_set.train if p.topic}
    assert trained_topics.isdisjoint(r.topic for r in heldout)
    assert {p.uid for p in pair_set.train}.isdisjoint(r.uid for r in heldout)
    manifest = load_manifest(heldout_dir)
    assert manifest["total"] == len(heldout)
    assert manifest["parent_release"] == "r1"
    assert manifest["split"]["test_topics"] == pair_set.split.to_dict()["test"]["topics"]
    lines = (tmp_path / "pairs" / "train_pairs.jsonl").read_text().splitlines()
    assert [json.loads(line)["uid"] for line in lines] == [p.uid for p in pair_set.train]
    split_file = json.loads((tmp_path / "pairs" / "split.json").read_text())
    assert split_file["split"]["test"]["uids"] == list(pair_set.split.test_uids)


def fake_run(run_dir, generated, released):
    """A pipeline run directory whose generation and release stages are complete."""
    generation = stage_dir(run_dir, "generation")
    generation.mkdir(parents=True)
    write_jsonl(
        generation / "triples.jsonl",
        ({**r.to_dict(), "topic_id": 1, "stance": 1} for r in generated),
    )
    release = stage_dir(run_dir, "release")
    write_release(release / RELEASE_SUBDIR, released, {"version": "run-1"})
    for directory in (generation, release):
        (directory / DONE_FILE).write_text("{}")


def test_pre_cr_pairs_come_from_generation_and_heldout_items_from_the_release(tmp_path):
    released = select_records(topical_records(topics=12), "us")
    # Conflict Reduction dropped one statement per topic: it exists only before it.
    dropped = [record(f"drop-{t}", f"topic {t}", i=500 + t) for t in range(12)]
    fake_run(tmp_path, released + dropped, released)
    source = read_pre_cr_source(tmp_path)
    assert (source.kind, source.version) == ("pre-cr", "run-1")
    pair_set = prepare_pairs(source, "us", seed=4)
    trained = {p.uid for p in pair_set.train}
    assert trained & {r.uid for r in dropped}
    assert {r.uid for r in pair_set.heldout} <= {r.uid for r in released}
    assert trained.isdisjoint(r.uid for r in pair_set.heldout)
    # The same seed holds out the same items when training on the release itself.
    post = prepare_pairs(
        read_release_source(stage_dir(tmp_path, "release") / RELEASE_SUBDIR), "us", seed=4
    )
    assert post.heldout == pair_set.heldout


def test_pre_cr_needs_the_generation_and_release_stages(tmp_path):
    with pytest.raises(ValueError, match="generation stage has not completed"):
        read_pre_cr_source(tmp_path)
    generation = stage_dir(tmp_path, "generation")
    generation.mkdir(parents=True)
    (generation / DONE_FILE).write_text("{}")
    with pytest.raises(ValueError, match="release stage has not completed"):
        read_pre_cr_source(tmp_path)
    with pytest.raises(ValueError, match="not a release directory"):
        read_release_source(tmp_path)


def test_dpo_settings_reject_nonsense():
    assert DPOSettings().lora_r == 16 and DPOSettings().beta == 0.1
    with pytest.raises(ValueError, match="learning_rate"):
        DPOSettings(learning_rate=0)
    with pytest.raises(ValueError, match="max_steps"):
        DPOSettings(max_steps=0)
    with pytest.raises(ValueError, match="lora_dropout"):
        DPOSettings(lora_dropout=1.0)


def test_align_pairs_only_writes_a_nations_pairs_and_the_heldout_release(
    release_dir, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = ["align", "--benchmark", "navab", str(release_dir), "--slice", "nation=cn"]
    argv += ["--slice", "mode=quoted", "--model", "unused", "--pairs-only", "--out", str(out)]
    assert main(argv) == 0
    assert "held-out release" in capsys.readouterr().out
    pairs = [json.loads(line) for line in (out / "train_pairs.jsonl").read_text().splitlines()]
    assert pairs and {(p["nation"], p["mode"]) for p in pairs} == {("cn", "quoted")}
    heldout = {r.uid for r in iter_triples(out / "heldout")}
    assert heldout and not heldout & {p["uid"] for p in pairs}


def test_align_reports_bad_input_without_a_traceback(tmp_path, capsys):
    argv = ["align", "--benchmark", "navab", str(tmp_path), "--slice", "nation=us"]
    assert main([*argv, "--model", "m", "--out", str(tmp_path / "o")]) == 2
    assert "problem(s) in the release" in capsys.readouterr().err
    argv = ["align", "--benchmark", "navab", str(tmp_path), "--slice", "topic=x"]
    assert main([*argv, "--model", "m", "--out", str(tmp_path / "o")]) == 2
    assert "aligns along nation, mode, not 'topic'" in capsys.readouterr().err


def test_the_pipeline_command_writes_pairs_from_before_conflict_reduction(tmp_path, capsys):
    released = select_records(topical_records(topics=12), "us")
    dropped = [record(f"drop-{t}", f"topic {t}", i=500 + t) for t in range(12)]
    fake_run(tmp_path / "run", released + dropped, released)
    out = tmp_path / "out"
    assert (
        pipeline_main(["dpo-pairs", str(tmp_path / "run"), "--nation", "us", "--out", str(out)])
        == 0
    )
    assert "held-out release" in capsys.readouterr().out
    trained = {
        json.loads(line)["uid"] for line in (out / "train_pairs.jsonl").read_text().splitlines()
    }
    assert trained & {r.uid for r in dropped}
    assert {r.uid for r in iter_triples(out / "heldout")} <= {r.uid for r in released}
    assert pipeline_main(["dpo-pairs", str(tmp_path), "--nation", "us", "--out", str(out)]) == 1
    assert "generation stage has not completed" in capsys.readouterr().err


STEPS = 10


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.tiny_models import build_tiny_model

    root = tmp_path_factory.mktemp("align")
    model = build_tiny_model(root / "base")
    release = root / "release"
    write_release(
        release, topical_records(nations=("us",), topics=6, per_topic=3), {"version": "r"}
    )
    pair_set = prepare_pairs(read_release_source(release), "us", seed=0)
    base, tokenizer = load_scoring_model(str(model), device="cpu")
    before = measure_margins(base, tokenizer, pair_set.train)
    events = []
    settings = DPOSettings(learning_rate=5e-3, max_steps=STEPS, batch_size=4)
    result = train_dpo(
        str(model),
        pair_set.train,
        root / "out",
        settings,
        merge=True,
        device="cpu",
        progress=lambda done, total: events.append((done, total)),
    )
    heldout = write_pair_set(pair_set, root / "pairs")
    return model, pair_set, before, result, events, heldout


@pytest.mark.slow
def test_dpo_moves_the_margin_toward_the_statement(trained):
    model, pair_set, before, result, _, _ = trained
    policy, tokenizer = load_scoring_model(str(model), adapter=result.adapter_dir, device="cpu")
    after = measure_margins(policy, tokenizer, pair_set.train)
    assert after.n == before.n == len(pair_set.train)
    assert after.mean > before.mean + 0.1
    assert after.prefer_statement_rate >= before.prefer_statement_rate


@pytest.mark.slow
def test_dpo_trains_the_adapter_and_reports_its_run(trained):
    from safetensors.torch import load_file

    _, pair_set, _, result, events, _ = trained
    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    # LoRA's B matrices start at zero: non-zero ones were trained.
    assert lora_b and all(float(t.abs().sum()) > 0 for t in lora_b)
    assert result.steps == STEPS
    assert [step for step, _ in result.loss_history] == list(range(1, STEPS + 1))
    assert result.loss_history[-1][1] < result.loss_history[0][1]
    assert sum(result.pair_counts.values()) == len(pair_set.train)
    assert {"torch", "transformers", "trl", "peft"} <= set(result.versions)
    assert (result.device, result.dtype) == ("cpu", "float32")
    assert events[0] == (0, STEPS) and events[-1] == (STEPS, STEPS)
    card = json.loads((result.adapter_dir.parent / "alignment.json").read_text())
    assert card["settings"]["lora_r"] == 16 and card["steps"] == STEPS


@pytest.mark.slow
def test_merged_model_loads_scores_like_the_adapter_and_evaluates(trained):
    from transformers import AutoModelForCausalLM

    from evaluation import ModelSpec
    from evaluation.benchmarks.navab.harness import evaluate

    model, pair_set, _, result, _, heldout = trained
    merged = AutoModelForCausalLM.from_pretrained(result.merged_dir)
    assert merged.config.model_type == "gpt2"
    policy, tokenizer = load_scoring_model(str(model), adapter=result.adapter_dir, device="cpu")
    merged_model, merged_tokenizer = load_scoring_model(str(result.merged_dir), device="cpu")
    adapter_margins = measure_margins(policy, tokenizer, pair_set.test)
    merged_margins = measure_margins(merged_model, merged_tokenizer, pair_set.test)
    assert merged_margins.mean == pytest.approx(adapter_margins.mean, abs=1e-3)
    spec = ModelSpec(pretrained=str(result.merged_dir), dtype="float32", batch_size=4)
    scores = evaluate(spec, heldout, methods=["mc"], nations=["us"], device="cpu").scores
    assert scores and sum(row.n for row in scores) == len(pair_set.heldout)
