"""The shipped sample corpus (pipeline/sample_corpus) feeds the demo run and these tests."""

import json
from collections import Counter, defaultdict

import pytest

from pipeline import run_all, stage_dir
from pipeline.extraction import parse_speaker
from pipeline.ingest import NATION_CODES as NATIONS
from pipeline.ingest import load_corpus
from pipeline.llm.scripted import ScriptedBackend
from pipeline.prompts import SOURCE_JUDGEMENT

from .conftest import DEMO_SCRIPT, SAMPLE_CORPUS

# Topics written into the corpus that are not value-laden; screening should reject them.
NEUTRAL_TOPICS = {"sports", "weather", "product launch"}
FILES = tuple(SAMPLE_CORPUS / f"{nation}.jsonl" for nation in NATIONS)


def sample_topics() -> dict[str, str]:
    """Each record's `sample_topic` (ingest ignores this extra field), keyed by title."""
    topics = {}
    for path in FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            topics[record["title"]] = record["sample_topic"]
    return topics


def test_the_sample_corpus_ingests_without_errors():
    documents, errors, duplicates = load_corpus(FILES)
    assert errors == [] and duplicates == 0
    assert Counter(d.nation for d in documents) == {nation: 30 for nation in NATIONS}
    assert all(d.outlet.startswith("Sample ") or " Sample " in d.outlet for d in documents)
    assert all(d.date.startswith("2024-") for d in documents)
    languages = defaultdict(set)
    for d in documents:
        languages[d.nation].add(d.language)
    assert languages == {
        "us": {"en"},
        "uk": {"en"},
        "fr": {"en", "fr"},
        "de": {"en", "de"},
        "cn": {"en", "zh"},
    }


def test_every_nation_has_quoted_and_official_statements_under_the_demo_script():
    documents, _, _ = load_corpus(FILES)
    backend = ScriptedBackend(script=DEMO_SCRIPT)
    prompts = [SOURCE_JUDGEMENT.format(text=d.text, statement=d.text) for d in documents]
    modes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for doc, answer in zip(documents, backend.generate(prompts, 32, 0.0), strict=True):
        parsed, speaker = parse_speaker(answer)
        assert parsed, answer
        modes[doc.nation]["quoted" if speaker else "official"] += 1
    for nation in NATIONS:
        assert modes[nation]["quoted"] >= 5 and modes[nation]["official"] >= 10, modes


@pytest.mark.slow
def test_topic_modelling_finds_several_topics_per_nation(make_config, embedder):
    config = make_config(list(FILES))
    results = run_all(config, until="topics", embedder=embedder)
    assert [r.status for r in results] == ["done", "done"]
    topics = json.loads((stage_dir(config.run_dir, "topics") / "topics.json").read_text())
    per_nation = Counter(t["nation"] for t in topics.values())
    assert max(per_nation.values()) >= 3, per_nation
    assert all(per_nation[nation] >= 2 for nation in NATIONS), per_nation

    # Sports reports never share a topic with a value-laden article, so screening can
    # reject the sports topics without losing policy articles.
    truth = sample_topics()
    documents = {d.doc_id: d for d in load_corpus(FILES)[0]}
    members = defaultdict(set)
    assignments = stage_dir(config.run_dir, "topics") / "assignments.jsonl"
    for line in assignments.read_text().splitlines():
        row = json.loads(line)
        if row["topic"] is not None:
            members[row["topic"]].add(truth[documents[row["doc_id"]].title])
    sports = [kinds for kinds in members.values() if "sports" in kinds]
    assert sports and all(kinds <= NEUTRAL_TOPICS for kinds in sports), sports
