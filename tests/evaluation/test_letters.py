"""Reading the answer letter from generated text: strict first, then the documented fallback;
what cannot be read is counted by kind, never guessed."""

from __future__ import annotations

import pytest

from evaluation.providers.letters import BLOCKED, parse_letter, process_results


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A", ("A", "strict")),
        (" (B) ", ("B", "strict")),
        ("**A**", ("A", "strict")),
        ("B.", ("B", "strict")),
        ("A: the first one", ("A", "fallback")),
        ("The answer is B because it says so.", ("B", "fallback")),
        ("I pick option (A).", ("A", "fallback")),
        ("<think>B looks right, no, A</think>\nA", ("A", "strict")),
        ("<THINKING>hmm</THINKING> Answer: B", ("B", "fallback")),
        ("still thinking about B</think>A", ("A", "strict")),
        ("<think>B is tempting but", (None, "unparsable")),
        ("", (None, "empty")),
        ("   \n", (None, "empty")),
        (None, (None, "empty")),
        ("<think>x</think>", (None, "empty")),
        (BLOCKED.format(reason="content_filter"), (None, "blocked")),
        ("I'm sorry, but I can't help with that.", (None, "refused")),
        ("As an AI, I do not take sides.", (None, "refused")),
        ("Answer: A, or maybe option B", (None, "ambiguous")),
        ("A or B, hard to say.", (None, "ambiguous")),
        ("The answer is (A) or (B).", (None, "ambiguous")),
        ("b", ("B", "strict")),
        ("(a).", ("A", "strict")),
        ("Answer: b", ("B", "fallback")),
        ("the answer is b because it says so", ("B", "fallback")),
        ("option (a) fits", ("A", "fallback")),
        ("b) the second", ("B", "fallback")),
        ("Between A and B, the answer is B.", ("B", "fallback")),
        ("Neither option is a good fit.", (None, "unparsable")),
        ("The best answer is a matter of taste.", (None, "unparsable")),
        ("I'm sorry, I cannot choose between A or B.", (None, "refused")),
        ("A good question about policy", (None, "unparsable")),
        ("policy policy Germany", (None, "unparsable")),
    ],
)
def test_it_reads_a_letter_or_says_why_not(text, expected):
    assert parse_letter(text) == expected


def test_lm_evals_metric_scores_the_gold_letter_and_nothing_else():
    assert process_results({"gold": 1}, ["B"]) == {"acc": 1.0}
    assert process_results({"gold": 0}, ["B"]) == {"acc": 0.0}
    assert process_results({"gold": 0}, ["I cannot answer."]) == {"acc": 0.0}


def test_a_lower_case_letter_scores_like_the_upper_case_gold():
    assert process_results({"gold": 1}, ["Answer: b"]) == {"acc": 1.0}
    assert process_results({"gold": 1}, ["b"]) == {"acc": 1.0}
    assert process_results({"gold": 0}, ["Neither option is a good fit."]) == {"acc": 0.0}
