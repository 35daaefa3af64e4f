"""Stage 2: topic modelling per nation (BERTopic's recipe without the BERTopic dependency).

Documents (title + text) are embedded, reduced with UMAP (5 cosine dimensions by default) and
clustered with HDBSCAN; each topic is described by c-TF-IDF keywords. Topics are modelled per
nation because every later step (screening, stance, conflict reduction) is about one nation's
positions; topic ids read "<nation>-<n>". HDBSCAN's outliers (label -1) are left without a
topic here; the `tags` stage gives them LLM instruction tags.

Fallbacks, recorded in topics.json under "method":
- umap-learn missing (or `reducer = "none"`): cluster the unit-normalised embeddings directly
  (Euclidean distance on unit vectors is monotone in cosine distance).
- hdbscan missing: scikit-learn's HDBSCAN.
- fewer documents than 2 x min_cluster_size: HDBSCAN cannot find density there, so
  agglomerative clustering (average linkage, cosine, `distance_threshold`) groups them and
  nothing is called an outlier.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.checkpoint import write_json, write_jsonl
from pipeline.config import TopicParams
from pipeline.context import StageContext
from pipeline.embed import Vectors
from pipeline.ingest import read_documents

OUTLIER = -1
Labels = npt.NDArray[np.int64]

_CJK = "\u3400-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{_CJK}]+|[^\W\d_{_CJK}]{{2,}}")
CJK_RUN = re.compile(rf"^[{_CJK}]+$")
# Words that carry no topic in news prose, in the corpus languages sklearn has no list for
# (sklearn's English list is added on first use: importing sklearn costs every process that
# imports the pipeline, the site's included, about 200 MB).
_MORE_STOP_WORDS = frozenset({
    "said", "says", "told", "also", "would", "could", "year", "years", "new", "like",
    "le", "la", "les", "de", "des", "du", "et", "en", "un", "une", "est", "que", "qui", "dans",
    "pour", "pas", "sur", "au", "aux", "par", "il", "elle", "ont", "sont", "ce", "cette",
    "der", "die", "das", "und", "ist", "nicht", "den", "dem", "ein", "eine", "mit", "sich",
    "auf", "für", "von", "zu", "im", "es", "sie", "er", "wir", "auch", "wird", "werden",
})  # fmt: skip


@cache
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _MORE_STOP_WORDS


def analyze(text: str) -> list[str]:
    """Lower-cased word tokens without stop words; CJK runs become character bigrams."""
    tokens: list[str] = []
    stop = stop_words()
    for match in TOKEN.finditer(text.lower()):
        word = match.group()
        if CJK_RUN.match(word):
            tokens.extend(
                [word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)]
            )
        elif word not in stop:
            tokens.append(word)
    return tokens


def ctfidf_keywords(texts_by_topic: dict[str, list[str]], top_n: int) -> dict[str, list[str]]:
    """Class-based TF-IDF: W(t, c) = tf(t, c) / |c| * log(1 + A / f(t)).

    Each topic's documents are joined into one class document; tf is L1-normalised per class,
    f(t) is t's frequency over all classes and A the mean number of tokens per class, so a word
    frequent in every topic scores low and a word frequent in one topic scores high.
    """
    topics = sorted(texts_by_topic)
    if not topics:
        return {}
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=analyze)
    try:
        counts = vectorizer.fit_transform([" ".join(texts_by_topic[t]) for t in topics])
    except ValueError:  # no token at all in any topic
        return {t: [] for t in topics}
    counts = counts.astype(np.float64).toarray()
    vocabulary = vectorizer.get_feature_names_out()
    class_totals = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(class_totals, 1.0)
    term_freq = counts.sum(axis=0)
    average = counts.sum() / len(topics)
    scores = tf * np.log1p(average / np.maximum(term_freq, 1.0))
    keywords: dict[str, list[str]] = {}
    for row, topic in enumerate(topics):
        # Ties broken alphabetically so keywords are reproducible.
        order = sorted(range(len(vocabulary)), key=lambda j: (-scores[row, j], vocabulary[j]))
        keywords[topic] = [str(vocabulary[j]) for j in order[:top_n] if scores[row, j] > 0]
    return keywords


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def reduce(vectors: Vectors, params: TopicParams, seed: int) -> tuple[Vectors, str]:
    n = len(vectors)
    use_umap = params.reducer == "umap" or (params.reducer == "auto" and _available("umap"))
    # UMAP's spectral initialisation needs more points than target dimensions.
    if not use_umap or n <= params.n_components + 1:
        return vectors, "none"
    import umap

    model = umap.UMAP(
        n_components=params.n_components,
        n_neighbors=min(params.n_neighbors, n - 1),
        metric=params.metric,
        min_dist=0.0,
        random_state=seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so silences its warning
    )
    return np.asarray(model.fit_transform(vectors), dtype=np.float32), "umap"


def cluster(vectors: Vectors, params: TopicParams, seed: int) -> tuple[Labels, dict[str, str]]:
    """Cluster one nation's document embeddings; label -1 marks an outlier."""
    n = len(vectors)
    if n == 1:
        return np.zeros(1, dtype=np.int64), {"reducer": "none", "clusterer": "single"}
    if params.clusterer == "agglomerative" or n < 2 * params.min_cluster_size:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None,
            distance_threshold=params.distance_threshold,
            metric="cosine",
            linkage="average",
        )
        labels = model.fit_predict(vectors)
        return np.asarray(labels, dtype=np.int64), {"reducer": "none", "clusterer": "agglomerative"}
    reduced, reducer = reduce(vectors, params, seed)
    if params.clusterer == "hdbscan" or (params.clusterer == "auto" and _available("hdbscan")):
        import hdbscan

        labels = hdbscan.HDBSCAN(
            min_cluster_size=params.min_cluster_size,
            cluster_selection_method=params.cluster_selection,
        ).fit_predict(reduced)
        clusterer = "hdbscan"
    else:
        from sklearn.cluster import HDBSCAN

        labels = HDBSCAN(
            min_cluster_size=params.min_cluster_size,
            cluster_selection_method=params.cluster_selection,
            copy=True,
        ).fit_predict(reduced)
        clusterer = "sklearn-hdbscan"
    return np.asarray(labels, dtype=np.int64), {"reducer": reducer, "clusterer": clusterer}


def doc_text(title: str, text: str) -> str:
    return f"{title}. {text}"


def run(ctx: StageContext) -> None:
    documents = read_documents(ctx.input_dir("ingest"))
    params = ctx.config.topics
    vectors = ctx.embedder().encode([doc_text(d.title, d.text) for d in documents])
    np.save(ctx.out / "embeddings.npy", vectors)
    by_nation: dict[str, list[int]] = defaultdict(list)
    for index, doc in enumerate(documents):
        by_nation[doc.nation].append(index)

    assignment: list[str | None] = [None] * len(documents)
    topics: dict[str, dict[str, Any]] = {}
    done = 0
    for nation in sorted(by_nation):
        rows = by_nation[nation]
        labels, method = cluster(vectors[rows], params, ctx.config.seed)
        texts: dict[str, list[str]] = defaultdict(list)
        for row, label in zip(rows, labels, strict=True):
            if label != OUTLIER:
                topic_id = f"{nation}-{label}"
                assignment[row] = topic_id
                texts[topic_id].append(doc_text(documents[row].title, documents[row].text))
        for topic_id, keywords in ctfidf_keywords(texts, params.keywords_per_topic).items():
            topics[topic_id] = {
                "nation": nation,
                "keywords": keywords,
                "label": ", ".join(keywords[:4]) or topic_id,
                "size": len(texts[topic_id]),
                "method": method,
            }
        done += len(rows)
        ctx.progress(done, len(documents))

    write_jsonl(
        ctx.out / "assignments.jsonl",
        ({"doc_id": d.doc_id, "topic": t} for d, t in zip(documents, assignment, strict=True)),
    )
    write_json(ctx.out / "topics.json", topics)
    outliers = sum(1 for t in assignment if t is None)
    ctx.output.counts.update(topics=len(topics), documents=len(documents), outliers=outliers)
