"""Stage 8: Conflict Reduction — one stance per group of similar statements, per nation and topic.

A nation's benchmark items must not contradict each other: if two near-identical statements on
the same topic take opposite stances, a model cannot agree with "the nation" on both. The rule:

1. Blocking. Statements are grouped by (nation, topic). Edges never cross a block, so mixed
   topics or nations are never merged, and the cost is the sum of per-block costs (near-linear
   in the number of statements while blocks stay bounded, which topic modelling ensures).
2. Edges. Within a block, statements i and j are joined when the cosine similarity of their
   embeddings is >= `similarity_threshold`; the edge weight is that similarity. Blocks up to
   `dense_block_limit` statements get an exact vectorised all-pairs matrix; larger blocks keep,
   per statement, only its `max_neighbors` nearest neighbours above the threshold (sklearn
   NearestNeighbors), so memory and edge count stay O(n k) for a runaway topic.
3. Stance. Every statement carries +1 or -1: whether it supports or opposes the main position
   of its topic (asked of the LLM in the extraction stage).
4. Resolution per connected component of the graph: the dominant stance is the one held by
   more statements; a tie goes to the stance with the larger total similarity weight (sum of
   its statements' weighted degrees: the more central position); a remaining tie goes to the
   stance of the statement with the smallest id, so the result never depends on input order.
   Statements of the dominant stance are kept, the others dropped and counted
   (`conflict_minority`). Singletons and one-stance components are kept whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pipeline.checkpoint import read_jsonl, write_jsonl
from pipeline.config import ConflictParams
from pipeline.context import StageContext
from pipeline.embed import Vectors

if TYPE_CHECKING:
    import networkx as nx

Edge = tuple[int, int, float]


@dataclass(frozen=True)
class Statement:
    id: str
    block: tuple[str, ...]
    stance: int


@dataclass
class Resolution:
    kept: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    components: int = 0
    conflicted_components: int = 0
    edges: int = 0

    def absorb(self, other: Resolution) -> None:
        self.kept |= other.kept
        self.dropped |= other.dropped
        self.components += other.components
        self.conflicted_components += other.conflicted_components
        self.edges += other.edges


def similarity_edges(vectors: Vectors, params: ConflictParams) -> list[Edge]:
    """Edges (i, j, similarity), i < j, between unit vectors at or above the threshold."""
    n = len(vectors)
    if n < 2:
        return []
    if n <= params.dense_block_limit:
        similarity = vectors @ vectors.T
        rows, cols = np.nonzero(np.triu(similarity >= params.similarity_threshold, k=1))
        return [(int(i), int(j), float(similarity[i, j])) for i, j in zip(rows, cols, strict=True)]
    from sklearn.neighbors import NearestNeighbors

    k = min(params.max_neighbors + 1, n)  # +1: each point is its own nearest neighbour
    index = NearestNeighbors(n_neighbors=k, metric="cosine").fit(vectors)
    distances, neighbours = index.kneighbors(vectors)
    edges: dict[tuple[int, int], float] = {}
    for i in range(n):
        for distance, j in zip(distances[i], neighbours[i], strict=True):
            sim = 1.0 - float(distance)
            if j != i and sim >= params.similarity_threshold:
                edges[(min(i, int(j)), max(i, int(j)))] = sim
    return [(i, j, sim) for (i, j), sim in sorted(edges.items())]


def block_graph(
    statements: Sequence[Statement], vectors: Vectors, params: ConflictParams
) -> nx.Graph:
    import networkx as nx  # on use: it costs every process importing the pipeline

    graph = nx.Graph()
    for s in statements:
        graph.add_node(s.id, stance=s.stance)
    graph.add_weighted_edges_from(
        (statements[i].id, statements[j].id, sim) for i, j, sim in similarity_edges(vectors, params)
    )
    return graph


def dominant_stance(graph: nx.Graph, component: set[str]) -> int:
    """Majority stance; ties by total weighted degree, then by the smallest statement id."""
    votes: dict[int, tuple[int, float]] = {}
    degree = dict(graph.degree(component, weight="weight"))
    for node in component:
        stance = graph.nodes[node]["stance"]
        count, weight = votes.get(stance, (0, 0.0))
        votes[stance] = (count + 1, weight + degree[node])
    first = graph.nodes[min(component)]["stance"]
    return max(votes, key=lambda s: (votes[s][0], round(votes[s][1], 9), s == first))


def resolve_graph(graph: nx.Graph) -> Resolution:
    """Keep the dominant stance in each connected component of a graph (nodes carry `stance`)."""
    import networkx as nx

    result = Resolution(edges=graph.number_of_edges())
    for component in nx.connected_components(graph):
        result.components += 1
        stances = {graph.nodes[n]["stance"] for n in component}
        if len(stances) == 1:
            result.kept |= component
            continue
        result.conflicted_components += 1
        winner = dominant_stance(graph, component)
        for node in component:
            (result.kept if graph.nodes[node]["stance"] == winner else result.dropped).add(node)
    return result


def reduce_conflicts(
    statements: Sequence[Statement],
    vectors: Vectors,
    params: ConflictParams,
    progress: Callable[[int, int], None] | None = None,
) -> Resolution:
    """Resolve every block independently; `vectors[i]` is the unit embedding of statements[i]."""
    for s in statements:
        if s.stance not in (1, -1):
            raise ValueError(f"statement {s.id!r} has stance {s.stance!r}; expected +1 or -1")
    blocks: dict[tuple[str, ...], list[int]] = {}
    for index, s in enumerate(statements):
        blocks.setdefault(s.block, []).append(index)
    result = Resolution()
    done = 0
    for key in sorted(blocks):
        rows = blocks[key]
        graph = block_graph([statements[i] for i in rows], vectors[rows], params)
        result.absorb(resolve_graph(graph))
        done += len(rows)
        if progress:
            progress(done, len(statements))
    return result


def run(ctx: StageContext) -> None:
    triples = list(read_jsonl(ctx.input_dir("generation") / "triples.jsonl"))
    statements = [
        Statement(t["uid"], (t["nation"], t["topic_id"]), int(t["stance"])) for t in triples
    ]
    vectors = ctx.embedder().encode([t["statement"] for t in triples])
    result = reduce_conflicts(statements, vectors, ctx.config.conflict, ctx.progress)
    write_jsonl(ctx.out / "triples.jsonl", (t for t in triples if t["uid"] in result.kept))
    write_jsonl(
        ctx.out / "dropped.jsonl",
        ({**t, "reason": "conflict_minority"} for t in triples if t["uid"] in result.dropped),
    )
    ctx.output.drop("conflict_minority", len(result.dropped))
    ctx.output.counts.update(
        triples=len(result.kept),
        components=result.components,
        conflicted_components=result.conflicted_components,
        edges=result.edges,
    )
