import json

import pytest

from evaluation.benchmarks.navab.records import triple_uid
from pipeline.checkpoint import read_jsonl, write_jsonl
from pipeline.config import LLMSpec, PipelineConfig
from pipeline.context import StageContext
from pipeline.extraction import parse_speaker, parse_statements
from pipeline.generation import parse_triple
from pipeline.generation import run as run_generation
from pipeline.prompts import parse_stance, parse_yes_no
from pipeline.tags import parse_tag


def test_it_parses_a_well_formed_triple():
    triple, reason = parse_triple(
        "  Q: Should borders close?\n## S: Yes, they should. ## RS: No, they should stay open. "
    )
    assert reason == ""
    assert triple is not None
    assert triple.question == "Should borders close?"
    assert triple.statement == "Yes, they should."
    assert triple.reverse_statement == "No, they should stay open."


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("Sure! Q: a ## S: b ## RS: c", "unparsable"),
        ("Q: a ## S: b", "unparsable"),
        ("Q: a ## RS: c ## S: b", "unparsable"),
        ("Q: a ## S: b ## RS: c ## extra", "unparsable"),
        ("Q: a ## S:  ## RS: c", "empty_field"),
        ("Q: ## S: b ## RS: c", "empty_field"),
        ("Q: a ## S: Taxes should rise. ## RS:  taxes SHOULD  rise.", "same_statement"),
    ],
)
def test_it_rejects_malformed_triples_with_a_reason(answer, reason):
    assert parse_triple(answer) == (None, reason)


def test_the_generation_stage_counts_every_drop_by_reason(tmp_path):
    extraction = tmp_path / "extraction"
    extraction.mkdir()
    base: dict[str, object] = {
        "doc_id": "d",
        "nation": "us",
        "mode": "official",
        "speaker": "",
        "topic_id": "us-0",
    }
    base |= {"topic": "t", "language": "en", "news_excerpt": "n", "stance": 1}
    texts = ["good one", "good two", "again good one", "broken", "same", "empty"]
    write_jsonl(
        extraction / "statements.jsonl",
        ({**base, "statement_id": f"s{i}", "text": t} for i, t in enumerate(texts)),
    )
    script = tmp_path / "script.json"
    rules = [
        ("Statement: good one", "Q: q1 ## S: s1 ## RS: r1"),
        ("Statement: good two", "Q: q2 ## S: s2 ## RS: r2"),
        ("Statement: again good one", "Q: q1 ## S: s1 ## RS: other"),
        ("Statement: broken", "I cannot answer that."),
        ("Statement: same", "Q: q ## S: x ## RS: x"),
        ("Statement: empty", "Q: q ## S: x ## RS:"),
    ]
    script.write_text(json.dumps({"rules": [{"match": m, "response": r} for m, r in rules]}))
    config = PipelineConfig(
        run_dir=tmp_path, inputs=(tmp_path,), llm=LLMSpec(options={"script": str(script)})
    )
    out = tmp_path / "out"
    out.mkdir()
    ctx = StageContext(config, "generation", out, {"extraction": extraction})
    run_generation(ctx)
    ctx.close()
    assert ctx.output.dropped == {
        "duplicate": 1,
        "unparsable": 1,
        "same_statement": 1,
        "empty_field": 1,
    }
    rows = list(read_jsonl(out / "triples.jsonl"))
    assert [r["statement_id"] for r in rows] == ["s0", "s1"]
    assert rows[0]["uid"] == triple_uid("us", "official", "q1", "s1")
    assert ctx.output.counts == {"statements": 6, "triples": 2}


def test_triple_uid_matches_the_site_recipe():
    # The one recipe the site (importer, factories) and the pipeline share.
    assert triple_uid("us", "quoted", " Q? ", "S.") == triple_uid("us", "quoted", "Q?", "S.")
    assert len(triple_uid("us", "quoted", "Q?", "S.")) == 20
    assert triple_uid("us", "quoted", "Q?", "S.") != triple_uid("uk", "quoted", "Q?", "S.")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("- A.\n- B.\n", ["A.", "B."]),
        ("NONE", []),
        ("none.", []),
        ("Here are the statements:\n- A.", None),
        ("", None),
    ],
)
def test_statement_lists_are_parsed_strictly(answer, expected):
    assert parse_statements(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Angela Merkel", (True, "Angela Merkel")),
        ("Speaker: Rishi Sunak.", (True, "Rishi Sunak")),
        ("NONE", (True, "")),
        ("unknown", (True, "")),
        ("The statement was made by a long list of several unnamed people in a room", (False, "")),
        ("Alice\nBob", (False, "")),
    ],
)
def test_speakers_decide_quoted_or_official(answer, expected):
    assert parse_speaker(answer) == expected


def test_one_word_answers_are_read_strictly():
    assert parse_yes_no("Yes.") is True
    assert parse_yes_no(" no, because") is False
    assert parse_yes_no("Yesterday") is None
    assert parse_yes_no("I think yes") is None
    assert parse_stance("Oppose") == -1
    assert parse_stance("supports") == 1
    assert parse_stance("neutral") is None


def test_outlier_tags_are_short_single_lines():
    assert parse_tag("Tag: Housing Prices") == "housing-prices"
    assert parse_tag("住房 价格") == "住房-价格"
    assert parse_tag("one two three four five six seven") is None
    assert parse_tag("housing\nprices") is None
    assert parse_tag("!!!") is None
