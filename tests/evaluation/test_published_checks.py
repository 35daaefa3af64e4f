"""The text checks every reader runs on each record: a clean record is passed in one scan, a
record that fails names every key that cannot be stored, and why."""

from __future__ import annotations

from evaluation.benchmarks.published import check_strings, json_problems


def test_a_clean_record_has_no_problem():
    record = {"question": "Why?", "answer": "Because: 因为 😀", "note": ""}
    assert check_strings(record, ("question", "answer"), ("note", "absent")) == []
    assert json_problems("extra", {"a": ["b", 1.5, {"c": "d"}]}) == []


def test_each_key_that_cannot_be_text_is_named():
    record = {"question": "a\x00b", "answer": "fine", "note": "x\ud800", "other": "y\udc00\x00"}
    assert check_strings(record, ("question", "answer"), ("note", "other")) == [
        ("question", "'question' contains a NUL character"),
        ("note", "'note' holds a lone surrogate (an unpaired \\ud800-\\udfff escape): not text"),
        ("other", "'other' contains a NUL character"),
    ]


def test_a_kept_value_names_each_kind_of_problem_once():
    value = {"a": ["ok", "b\x00"], "k\ud800": float("nan"), "c": "\x00"}
    assert json_problems("extra", value) == [
        "'extra' contains NaN or Infinity",
        "'extra' contains a NUL character",
        "'extra' holds a lone surrogate (an unpaired \\ud800-\\udfff escape): not text",
    ]
