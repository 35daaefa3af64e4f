"""What a stage function receives: the config, where to read and write, and lazy resources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.checkpoint import StageOutput
from pipeline.config import PipelineConfig
from pipeline.embed import Embedder, load_embedder
from pipeline.llm.base import LLMBackend
from pipeline.llm.cache import CachedLLM
from pipeline.llm.registry import make_backend

#: progress(stage, done, total): called as a stage advances; `total` may grow between calls.
Progress = Callable[[str, int, int], None]
LLM_CACHE_FILE = "llm-cache.sqlite"


def no_progress(stage: str, done: int, total: int) -> None:
    """The default callback: report nothing."""


@dataclass
class StageContext:
    config: PipelineConfig
    stage: str
    out: Path
    stage_dirs: dict[str, Path]
    report: Progress = no_progress
    backend: LLMBackend | None = None
    embedder_override: Embedder | None = None
    output: StageOutput = field(default_factory=StageOutput)
    _llm: CachedLLM | None = None

    def input_dir(self, stage: str) -> Path:
        return self.stage_dirs[stage]

    def progress(self, done: int, total: int) -> None:
        self.report(self.stage, done, total)

    def embedder(self) -> Embedder:
        return self.embedder_override or load_embedder(self.config.embedding_model)

    def llm(self) -> CachedLLM:
        if self._llm is None:
            backend = self.backend or make_backend(self.config.llm)
            self._llm = CachedLLM(
                backend, self.config.run_dir / LLM_CACHE_FILE, self.config.llm.batch_size
            )
        return self._llm

    def generate(self, prompts: list[str]) -> list[str]:
        """Answer prompts through the run's cache, reporting progress for this stage."""
        spec = self.config.llm
        return self.llm().generate(prompts, spec.max_tokens, spec.temperature, self.progress)

    @property
    def llm_calls(self) -> int:
        """Prompts this stage sent to the backend (cache hits excluded)."""
        return self._llm.calls if self._llm else 0

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
