"""Reading DiverValue-Bench's released poly-judge records (the publisher's run): each record's
verdict re-decided with the publisher's recompute rule from each judge's own output, and every
quirk of real LLM judges' records (free-text scores, missing judges, reasoning blocks, extra
keys, unreadable records, ids the release lacks) read faithfully and counted."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evaluation.benchmarks.divervalue.paa import Verdict
from evaluation.benchmarks.divervalue.publisher_run import (
    PublisherFileError,
    model_name,
    read_publisher_run,
)

NAME = "gpt-4o_multi_value_judge_pairwise_polyjudge_recomputed.json"
DIMENSIONS = ["birth_country", "region"]
ITEMS = [
    {"uid": f"u{i}", "user_id": f"user{i % 3}", "split": "test", "birth_country": "Japan",
     "region": "East Asia"}
    for i in range(1, 9)
]  # fmt: skip


def judge(w: int, lose: int, m: int, violations: list[str] | None = None) -> dict[str, Any]:
    """A judge's entry as the publisher's judge script writes it: parsed fields and raw."""
    parsed = {
        "score_w": w,
        "score_l": lose,
        "score_model": m,
        "enforced_dimensions_used": ["safety", "factuality"],
        "hard_violations_model": violations or [],
        "reason": "because",
    }
    return {**{k: v for k, v in parsed.items() if k != "reason"}, "raw": json.dumps(parsed)}


W = (88, 30, 90)  # model >= l + 20 and >= w - 3
L = (88, 30, 60)  # model <= w - 8
TIE = (88, 70, 84)  # neither


def record(uid: str, judges: dict[str, Any], final: str = "W", **extra: Any) -> dict[str, Any]:
    return {"id": uid, "model_answer": f"answer {uid}", "judges": judges, "final_label": final,
            **extra}  # fmt: skip


def panel(a: Any, b: Any, c: Any) -> dict[str, Any]:
    return {"gpt-4o": a, "Doubao-1.5-pro-32k": b, "DeepSeek-V3-Fast": c}


def records() -> list[Any]:
    free_text = judge(*W)
    free_text["raw"] = free_text["raw"].replace('"score_model": 90', '"score_model": "85/100"')
    free_text["score_model"] = 0  # the publisher's clamp_int of the unreadable score
    thinking = judge(*W)
    thinking["raw"] = "<think>compare the three</think>\n```json\n" + thinking["raw"] + "\n```"
    fields_only = {k: v for k, v in judge(*L).items() if k != "raw"}
    return [
        record("u1", panel(judge(*W), judge(*W), judge(*W)), final="TIE"),  # relabelled
        # A W majority, and a judge flagging a hard violation (its own L): the veto makes L.
        record("u2", panel(judge(*W), judge(*W), judge(*W, ["ignores safety"])), final="L"),
        record("u3", panel(free_text, judge(*W), judge(*TIE)), final="TIE"),
        record("u4", {"gpt-4o": judge(*W), "Doubao-1.5-pro-32k": judge(*L)}, final="TIE"),
        record("u5", panel(thinking, judge(*W), judge(*L)), final="W", latency_ms=812),
        record("u6", panel(fields_only, judge(*L), judge(*W)), final="L"),
        record(
            "u7",
            panel({"raw": "I cannot judge this."}, {"raw": ""}, judge(*W)),
            final="TIE",
        ),
        record("u8", {**panel(judge(*W), judge(*L), judge(*TIE)), "claude": judge(*W)}, "W"),
        record("zz-not-here", panel(judge(*W), judge(*W), judge(*W))),
        record("u1", panel(judge(*L), judge(*L), judge(*L)), final="L"),  # a repeated id
        "not a record",
        {"model_answer": "no id", "judges": panel(judge(*W), judge(*W), judge(*W))},
        {"id": "u3", "model_answer": "no judges"},
    ]


def write(tmp_path: Path, data: Any, name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_it_re_decides_every_item_with_the_publishers_rule_and_counts_every_quirk(tmp_path):
    run = read_publisher_run(write(tmp_path, records()), ITEMS, DIMENSIONS)
    assert run.model == "gpt-4o"
    verdicts = {item.uid: item.verdict for item in run.items}
    assert verdicts == {
        "u1": Verdict.W,
        "u2": Verdict.L,
        # gpt-4o's free-text score is unreadable: it abstains (the publisher read 0, an L);
        # one W and one TIE is no majority.
        "u3": Verdict.TIE,
        # The missing judge abstains: one W, one L.
        "u4": Verdict.TIE,
        "u5": Verdict.W,  # the <think> block and code fence are dropped; 2 W
        "u6": Verdict.L,  # read from the parsed fields where no raw output is kept
        "u7": Verdict.ABSTAIN,  # two judges unreadable
        "u8": Verdict.W,  # an extra judge sits on the panel: W, L, TIE, W
    }
    by_uid = {item.uid: item for item in run.items}
    assert by_uid["u1"].answer == "answer u1"  # the first of the repeated records
    assert by_uid["u1"].outcome["paa"] == 1.0 and by_uid["u2"].outcome["l_share"] == 1.0
    assert by_uid["u7"].outcome["unparsable"] == pytest.approx(2 / 3)
    assert by_uid["u4"].outcome["unparsable"] == pytest.approx(1 / 3)
    assert by_uid["u1"].slices == {"birth_country": "Japan", "region": "East Asia"}
    u3 = {r["judge"]: r for r in by_uid["u3"].judges}
    assert u3["gpt-4o"]["vote"] == "ABSTAIN" and "score_model" in u3["gpt-4o"]["error"]
    assert u3["gpt-4o"]["raw"].count('"85/100"') == 1  # the judge's own output is kept
    assert [r["vote"] for r in by_uid["u2"].judges] == ["W", "W", "L"]

    report = run.report
    assert (report.records, report.matched, report.duplicates) == (13, 8, 1)
    assert report.n_unmatched == 1 and report.unmatched == ["zz-not-here"]
    assert report.unreadable == [(10, "not an object"), (11, "no id"), (12, "no judges")]
    assert report.unparsable == {"gpt-4o": 2, "Doubao-1.5-pro-32k": 1}
    assert report.missing == {"DeepSeek-V3-Fast": 1}
    assert report.extra_judges == {"claude": 1}
    assert report.extra_keys == {"latency_ms": 1}
    # u1 (file TIE), u6 agrees (L), u7 (file TIE, here ABSTAIN): two differ from the file.
    assert report.relabelled == 2
    assert report.relabelled_examples == ["u1: TIE -> W", "u7: TIE -> ABSTAIN"]
    assert report.verdicts == {"W": 3, "L": 2, "TIE": 2, "ABSTAIN": 1}
    summary = "\n".join(report.summary())
    assert "3 records unreadable" in summary and "1 ids not in the release" in summary


def test_it_reads_the_zip_the_publisher_ships(tmp_path):
    source = write(tmp_path, records())
    archive = tmp_path / NAME.replace(".json", ".zip")
    with zipfile.ZipFile(archive, "w") as out:
        out.write(source, f"judge/{NAME}")
        out.writestr(f"__MACOSX/judge/._{NAME}", b"\x00\x05\x16\x07")  # a resource fork
    zipped = read_publisher_run(archive, ITEMS, DIMENSIONS)
    plain = read_publisher_run(source, ITEMS, DIMENSIONS)
    assert [(i.uid, i.verdict) for i in zipped.items] == [(i.uid, i.verdict) for i in plain.items]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("answers.json", [], "not a publisher judge file"),
        (NAME, {"id": "u1"}, "expected a JSON list"),
        (NAME, "{not json", "Expecting"),
    ],
)
def test_a_file_that_is_not_the_publishers_is_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(PublisherFileError, match=message):
        read_publisher_run(path, ITEMS, DIMENSIONS)


def test_the_model_is_named_as_the_publishers_file_names_it():
    assert model_name(Path("deepSeek-v3-fast_multi_value_judge_pairwise_polyjudge.zip")) == (
        "deepSeek-v3-fast"
    )
    assert model_name(Path(NAME)) == "gpt-4o"
