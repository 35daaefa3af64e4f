import networkx as nx
import numpy as np
import pytest

from pipeline.config import ConflictParams
from pipeline.conflict import Statement, reduce_conflicts, resolve_graph, similarity_edges

PARAMS = ConflictParams(similarity_threshold=0.9)


def graph(stances: dict[str, int], edges: list[tuple[str, str, float]]) -> nx.Graph:
    g = nx.Graph()
    for node, stance in stances.items():
        g.add_node(node, stance=stance)
    g.add_weighted_edges_from(edges)
    return g


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_it_keeps_the_majority_stance_in_each_component():
    g = graph(
        {"a": 1, "b": 1, "c": -1, "d": -1, "e": -1, "f": 1},
        [("a", "b", 0.9), ("b", "c", 0.9), ("d", "e", 0.95), ("e", "f", 0.95)],
    )
    result = resolve_graph(g)
    assert result.kept == {"a", "b", "d", "e"}
    assert result.dropped == {"c", "f"}
    assert (result.components, result.conflicted_components, result.edges) == (2, 2, 4)


def test_a_tie_goes_to_the_stance_with_more_similarity_weight():
    # Two votes each; weighted degrees: +1 holds 1.97 + 0.99, -1 holds 1.78 + 0.8. The smallest
    # id ("a") is on the losing side, so this checks that weight is asked before id.
    g = graph(
        {"p": 1, "q": 1, "a": -1, "b": -1},
        [("p", "q", 0.99), ("p", "a", 0.98), ("a", "b", 0.8)],
    )
    result = resolve_graph(g)
    assert result.kept == {"p", "q"} and result.dropped == {"a", "b"}


def test_a_full_tie_goes_to_the_stance_of_the_smallest_id_whatever_the_order():
    for order in (["x", "y"], ["y", "x"]):
        stances = {"x": -1, "y": 1}
        g = graph({n: stances[n] for n in order}, [("x", "y", 0.9)])
        result = resolve_graph(g)
        assert result.kept == {"x"} and result.dropped == {"y"}


def test_singletons_and_agreeing_components_are_kept_whole():
    g = graph({"lone": -1, "p": 1, "q": 1}, [("p", "q", 0.9)])
    result = resolve_graph(g)
    assert result.kept == {"lone", "p", "q"} and not result.dropped
    assert (result.components, result.conflicted_components) == (2, 0)


def test_statements_on_different_topics_or_nations_are_never_merged():
    same = unit(1, 0, 0)
    statements = [
        Statement("us-a", ("us", "t1"), 1),
        Statement("us-b", ("us", "t2"), -1),
        Statement("uk-a", ("uk", "t1"), -1),
    ]
    result = reduce_conflicts(statements, np.stack([same, same, same]), PARAMS)
    assert result.kept == {"us-a", "us-b", "uk-a"}
    assert result.edges == 0 and result.components == 3


def test_it_builds_edges_from_similarity_within_a_block():
    # Two tight groups far apart: {0, 1, 2} (two +1, one -1) and {3, 4} (one each).
    vectors = np.stack(
        [unit(1, 0, 0), unit(1, 0.1, 0), unit(1, 0, 0.1), unit(0, 1, 0), unit(0, 1, 0.05)]
    )
    stances = [1, 1, -1, -1, 1]
    statements = [Statement(f"s{i}", ("us", "t"), s) for i, s in enumerate(stances)]
    progress = []
    result = reduce_conflicts(statements, vectors, PARAMS, lambda d, t: progress.append((d, t)))
    assert result.kept == {"s0", "s1", "s3"}
    assert result.dropped == {"s2", "s4"}
    assert progress == [(5, 5)]


def test_large_blocks_use_nearest_neighbours_and_agree_with_the_exact_edges():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    points = np.repeat(centres, 10, axis=0) + rng.normal(scale=0.05, size=(40, 16))
    vectors = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    exact = similarity_edges(vectors, ConflictParams(similarity_threshold=0.9))
    approx = similarity_edges(
        vectors, ConflictParams(similarity_threshold=0.9, dense_block_limit=8, max_neighbors=12)
    )
    assert {(i, j) for i, j, _ in approx} == {(i, j) for i, j, _ in exact}
    capped = similarity_edges(
        vectors, ConflictParams(similarity_threshold=0.9, dense_block_limit=8, max_neighbors=2)
    )
    assert len(capped) < len(exact)
    assert {(i, j) for i, j, _ in capped} <= {(i, j) for i, j, _ in exact}


def test_it_rejects_a_statement_without_a_stance():
    with pytest.raises(ValueError, match="expected \\+1 or -1"):
        reduce_conflicts(
            [Statement("s", ("us", "t"), 0)], np.ones((1, 2), dtype=np.float32), PARAMS
        )
