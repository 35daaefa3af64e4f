from collections import Counter

import pytest

from pipeline.config import TopicParams
from pipeline.topics import analyze, cluster, ctfidf_keywords, doc_text

from .conftest import TOPIC_TEXTS


def purity(labels: list[int], per_topic: int) -> list[tuple[int, int]]:
    """For each true topic, its most common label and how many of its documents carry it."""
    groups = [labels[i : i + per_topic] for i in range(0, len(labels), per_topic)]
    return [Counter(int(x) for x in g if x != -1).most_common(1)[0] for g in groups]


@pytest.mark.parametrize(
    ("params", "method"),
    [
        (TopicParams(), {"reducer": "umap", "clusterer": "hdbscan"}),
        (
            TopicParams(reducer="none", clusterer="sklearn-hdbscan", min_cluster_size=4),
            {"reducer": "none", "clusterer": "sklearn-hdbscan"},
        ),
    ],
)
def test_it_separates_obviously_different_topics(embedder, params, method):
    texts = [t for texts in TOPIC_TEXTS.values() for t in texts]
    labels, used = cluster(embedder.encode(texts), params, seed=0)
    assert used == method
    best = purity(list(labels), 10)
    assert len({label for label, _ in best}) == 3, labels
    assert all(count >= 7 for _, count in best), labels
    assert len(set(labels) - {-1}) == 3, labels


def test_tiny_corpora_fall_back_to_agglomerative_clustering(embedder):
    texts = [t for texts in TOPIC_TEXTS.values() for t in texts[:2]]
    labels, used = cluster(embedder.encode(texts), TopicParams(), seed=0)
    assert used == {"reducer": "none", "clusterer": "agglomerative"}
    assert labels[0] == labels[1] != labels[2] == labels[3] != labels[4] == labels[5]
    single, used = cluster(embedder.encode(texts[:1]), TopicParams(), seed=0)
    assert list(single) == [0] and used["clusterer"] == "single"


def test_ctfidf_keywords_name_each_topic():
    keywords = ctfidf_keywords(
        {name: [doc_text("", t) for t in texts] for name, texts in TOPIC_TEXTS.items()}, top_n=6
    )
    assert {"immigration", "asylum", "border"} & set(keywords["immigration"])
    assert {"climate", "emissions", "carbon"} & set(keywords["climate"])
    assert {"match", "league", "cup"} & set(keywords["football"])
    stop = {"the", "and", "said", "to"}
    assert not any(stop & set(words) for words in keywords.values())


def test_the_tokenizer_handles_cjk_and_stop_words():
    assert analyze("The Border: 移民政策 and visas") == ["border", "移民", "民政", "政策", "visas"]
