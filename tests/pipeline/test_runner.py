import json
from pathlib import Path

import pytest

from evaluation.benchmarks.navab.records import iter_triples
from evaluation.release import load_manifest, sha256_file
from pipeline import (
    STAGES,
    read_proposal,
    run_all,
    run_stage,
    run_status,
    stage_dir,
    write_approvals,
)
from pipeline.__main__ import main
from pipeline.llm.base import LLMBackend
from pipeline.llm.scripted import ScriptedBackend
from pipeline.runner import ConfigMismatch, StageOrderError

from .conftest import DEMO_SCRIPT, REPO, SAMPLE_CORPUS


class CountingBackend(LLMBackend):
    """The demo script, counting prompts, optionally crashing after `crash_after` of them."""

    backend_id = "scripted"

    def __init__(self, crash_after: int | None = None):
        self.inner = ScriptedBackend(script=DEMO_SCRIPT)
        super().__init__(self.inner.model)
        self.crash_after = crash_after
        self.prompts = 0

    def generate(self, prompts, max_tokens, temperature):
        if self.crash_after is not None and self.prompts + len(prompts) > self.crash_after:
            raise RuntimeError("simulated crash")
        self.prompts += len(prompts)
        return self.inner.generate(prompts, max_tokens, temperature)


def approve_proposal(run_dir: Path) -> None:
    topics = read_proposal(run_dir)["topics"]
    write_approvals(run_dir / "approvals.json", {t: p["proposed"] for t, p in topics.items()}, "op")


def test_stages_declare_which_need_the_llm(make_config, small_corpus):
    config = make_config(small_corpus)
    queues = {s.name: s.queue(config) for s in STAGES}
    assert queues == {
        "ingest": "default",
        "topics": "default",
        "tags": "gpu",
        "screening": "gpu",
        "approval": "default",
        "extraction": "gpu",
        "generation": "gpu",
        "conflict": "default",
        "release": "default",
    }


@pytest.mark.slow  # the whole pipeline: minutes
def test_a_run_waits_for_approval_then_writes_a_draft_release(make_config, small_corpus, embedder):
    config = make_config(small_corpus)
    events = []
    results = run_all(config, lambda *e: events.append(e), embedder=embedder)
    assert [r.status for r in results][-1] == "awaiting_approval"
    assert [r.stage for r in results][-1] == "approval"
    assert {row["stage"]: row["state"] for row in run_status(config.run_dir)}["approval"] == (
        "awaiting_approval"
    )
    proposal = read_proposal(config.run_dir)["topics"]
    # The demo script says "no" to football topics and "yes" to the others.
    assert {t: p["proposed"] for t, p in proposal.items() if "football" in p["keywords"]}
    assert all(p["proposed"] == ("football" not in p["keywords"]) for p in proposal.values()), (
        proposal
    )

    approve_proposal(config.run_dir)
    results = run_all(config, lambda *e: events.append(e), embedder=embedder)
    assert [r.status for r in results] == ["skipped"] * 4 + ["done"] * 5
    assert {e[0] for e in events} >= {"ingest", "topics", "extraction", "generation", "release"}

    release_dir = stage_dir(config.run_dir, "release") / "release"
    triples = list(iter_triples(release_dir))
    manifest = load_manifest(release_dir)
    assert manifest["status"] == "draft" and manifest["total"] == len(triples) > 0
    assert manifest["files"]["triples.jsonl"]["sha256"] == sha256_file(
        release_dir / "triples.jsonl"
    )
    assert {t.nation for t in triples} == {"us", "uk"}
    assert not any("football" in t.question.lower() for t in triples)
    quoted = [t for t in triples if t.mode == "quoted"]
    assert quoted and all(t.speaker == "Minister Harper" for t in quoted)
    assert all(t.speaker == "" for t in triples if t.mode == "official")
    assert manifest["stages"]["approval"]["counts"]["approved"] >= 2
    assert "conflict_minority" in manifest["stages"]["conflict"]["dropped"]

    # Everything is checkpointed: a rerun skips every stage and calls no model.
    backend = CountingBackend()
    rerun = run_all(config, backend=backend, embedder=embedder)
    assert {r.status for r in rerun} == {"skipped"} and backend.prompts == 0

    # Rerunning from a stage replays the LLM cache: zero backend calls again.
    rerun = run_all(config, from_stage="extraction", backend=backend, embedder=embedder)
    assert [r.status for r in rerun][-4:] == ["done"] * 4
    assert backend.prompts == 0 and sum(r.llm_calls for r in rerun) == 0
    assert len(list(iter_triples(release_dir))) == len(triples)


@pytest.mark.slow  # the whole pipeline: minutes
def test_a_crash_mid_stage_resumes_from_the_llm_cache(make_config, small_corpus, embedder):
    import dataclasses

    from pipeline.config import LLMSpec

    config = make_config(small_corpus)
    config = dataclasses.replace(config, llm=LLMSpec(options=config.llm.options, batch_size=3))
    run_all(config, embedder=embedder)
    approve_proposal(config.run_dir)
    run_all(config, until="approval", embedder=embedder)

    crashing = CountingBackend(crash_after=7)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_stage(config.run_dir, config, "extraction", backend=crashing, embedder=embedder)
    assert crashing.prompts == 6  # two batches of three were answered and cached
    assert not stage_dir(config.run_dir, "extraction").exists()
    assert {r["stage"]: r["state"] for r in run_status(config.run_dir)}["extraction"] == "pending"

    resumed = CountingBackend()
    result = run_stage(config.run_dir, config, "extraction", backend=resumed, embedder=embedder)
    assert result.status == "done" and result.counts["statements"] > 0

    fresh = CountingBackend()
    fresh_config = dataclasses.replace(config, run_dir=config.run_dir.parent / "fresh")
    run_all(fresh_config, until="screening", embedder=embedder, backend=fresh)
    approve_proposal(fresh_config.run_dir)
    before = fresh.prompts
    run_all(fresh_config, until="extraction", embedder=embedder, backend=fresh)
    assert resumed.prompts == fresh.prompts - before - 6


def test_stages_run_in_order_and_a_run_dir_keeps_its_config(make_config, small_corpus):
    config = make_config(small_corpus)
    with pytest.raises(StageOrderError, match="needs ingest, topics to complete first"):
        run_stage(config.run_dir, config, "tags")
    import dataclasses

    with pytest.raises(ConfigMismatch, match="different config"):
        run_stage(config.run_dir, dataclasses.replace(config, seed=1), "ingest")


def test_the_cli_runs_resumes_approves_and_reports(tmp_path, small_corpus, capsys):
    config_path = tmp_path / "run.json"
    config_path.write_text(
        json.dumps(
            {
                "run_dir": "cli-run",
                "inputs": [str(p) for p in small_corpus],
                "topics": {"min_cluster_size": 3},
                "llm": {"backend": "scripted", "options": {"script": str(DEMO_SCRIPT)}},
            }
        )
    )
    run_dir = tmp_path / "cli-run"
    assert main(["run", str(config_path), "--until", "topics"]) == 0
    assert main(["run", str(config_path)]) == 3
    assert "awaiting approval" in capsys.readouterr().out
    assert main(["approve", str(run_dir), "--reviewer", "ops", "--accept-proposal"]) == 0
    assert main(["approve", str(run_dir), "--reviewer", "ops", "--approve", "xx-9"]) == 1
    assert main(["run", str(config_path), "--until", "approval"]) == 0
    capsys.readouterr()
    assert main(["status", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "approval   default done" in out and "extraction gpu     pending" in out
    decisions = json.loads((run_dir / "approvals.json").read_text())["topics"]
    assert {d["by"] for d in decisions.values()} == {"ops"}


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE_CORPUS.is_dir(), reason="pipeline/sample_corpus not present")
def test_the_demo_config_builds_a_release_from_the_sample_corpus(tmp_path, embedder):
    import dataclasses

    from pipeline import load_config

    config = dataclasses.replace(
        load_config(REPO / "pipeline" / "demo" / "sample.toml"), run_dir=tmp_path / "demo"
    )
    assert {p.stem for p in config.inputs} == {"cn", "us", "uk", "fr", "de"}
    assert run_all(config, embedder=embedder)[-1].status == "awaiting_approval"
    approve_proposal(config.run_dir)
    results = run_all(config, embedder=embedder)
    assert results[-1].stage == "release" and results[-1].status == "done"
    release_dir = stage_dir(config.run_dir, "release") / "release"
    triples = list(iter_triples(release_dir))
    assert len(triples) == load_manifest(release_dir)["total"] > 0
    assert {t.nation for t in triples} == {"cn", "us", "uk", "fr", "de"}
