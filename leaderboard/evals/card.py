"""A job's reproducibility card as pages read it: one typed card for every benchmark.

Benchmarks write their cards as JSON (`evaluation.results.ReproCard` and their own extras),
and stored cards keep the shapes they were written in: NaVAB names its release's version and
triples file and one AJ judge, DiverValue-Bench holds only its items file's hash and a judge
panel per judged method. The card reconciles them here, once; templates read its properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluation.capacity import Layout

#: the release file each benchmark's card hashes, by the key it stores the hash under
RELEASE_FILES = {"triples_sha256": "triples.jsonl", "items_sha256": "items.jsonl"}


@dataclass(frozen=True)
class PanelJudge:
    """One judge of a panel, with the outputs of it no verdict could be read from."""

    name: str
    model: str
    revision: str
    kind: str
    chat_template: bool
    max_gen_toks: int | None
    unparsable: int


@dataclass(frozen=True)
class JudgePanel:
    """The judges of one judged method (DiverValue-Bench's PAA)."""

    method: str
    judges: list[PanelJudge]
    n_items: int
    abstained_items: int


@dataclass(frozen=True)
class JobCard:
    """A stored card, typed where benchmarks differ. The fields every benchmark writes alike
    (device, dtype, seed, versions, commands...) are read as keys: `card.device`."""

    raw: dict[str, Any] = field(default_factory=dict)
    #: the job's release version, for cards that do not name it
    job_release: str = ""
    #: the labels of the slice dimensions the run's limit counts items per (its benchmark's
    #: `limit_per`; empty: the limit keeps the release's first N items)
    limit_per: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.raw)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def _section(self, key: str) -> dict[str, Any]:
        section = self.raw.get(key)
        return section if isinstance(section, dict) else {}

    @property
    def _release(self) -> dict[str, Any]:
        return self._section("release")

    @property
    def release_version(self) -> str:
        return str(self._release.get("version") or self.job_release)

    @property
    def release_file(self) -> str:
        """The release file whose hash the card holds ("" where none)."""
        return next((name for key, name in RELEASE_FILES.items() if self._release.get(key)), "")

    @property
    def release_sha256(self) -> str:
        return next(
            (str(self._release[key]) for key in RELEASE_FILES if self._release.get(key)), ""
        )

    @property
    def layout(self) -> str:
        """How the model was laid out on the worker's GPUs ("" for served models and cards
        written before layouts were recorded)."""
        model = self._section("model")
        if "shards" not in model or model.get("kind") not in ("hf", "vllm"):
            return ""
        layout = Layout(int(model["shards"]), int(model.get("replicas") or 1))
        return layout.describe(str(model["kind"]))

    @property
    def limit_text(self) -> str:
        """What the run's limit kept, in the benchmark's own dimensions ("" without one)."""
        limit = self.raw.get("limit")
        if not limit:
            return ""
        if self.limit_per:
            cells = " \N{MULTIPLICATION SIGN} ".join(d.lower() for d in self.limit_per)
            return f"{limit} items per {cells}"
        return f"the first {limit} items"

    @property
    def generation(self) -> list[tuple[str, str]]:
        """A chat model's generation settings as its run sent them, labelled ([] for models
        that take none; cards from before the settings: every default)."""
        model = self._section("model")
        if model.get("kind") != "openai-chat":
            return []
        chosen = model.get("generation")
        chosen = chosen if isinstance(chosen, dict) else {}
        if chosen.get("reasoning"):
            effort = chosen.get("reasoning_effort")
            rows = [
                ("Mode", "reasoning: no stop sequences, no temperature, max_completion_tokens"),
                ("Reasoning effort", str(effort) if effort else "the API's default"),
            ]
        else:
            temperature = chosen.get("temperature")
            rows = [
                ("Mode", "standard: stop sequences and max_tokens sent"),
                ("Temperature", "0 (greedy)" if temperature is None else f"{temperature:g}"),
            ]
        rows.append(("System prompt", str(chosen.get("system_prompt") or "none")))
        return rows

    @property
    def publisher_source(self) -> dict[str, Any]:
        """Where an imported publisher's run came from ({} for the site's own runs): the file
        and its sha256, and the rule and import report of each judged method."""
        if self._section("model").get("kind") != "publisher":
            return {}
        return {"file": self._release, "judge": self._judge}

    @property
    def _judge(self) -> dict[str, Any]:
        return self._section("judge")

    @property
    def single_judge(self) -> str:
        """The one judge of every judged method, name@revision ("" for panels or none)."""
        name = str(self._judge.get("pretrained") or "")
        revision = self._judge.get("revision")
        return f"{name}@{revision}" if name and revision else name

    @property
    def judge_panels(self) -> list[JudgePanel]:
        """Per judged method, its panel of judges (those with one, in the card's order)."""
        if self.single_judge:
            return []
        panels = []
        for method, panel in self._judge.items():
            if not isinstance(panel, dict) or not panel.get("judges"):
                continue
            unparsable = panel.get("unparsable_outputs") or {}
            judges = [
                PanelJudge(
                    name=str(j.get("name", "")),
                    model=str(j.get("model", "")),
                    revision=str(j.get("revision") or ""),
                    kind=str(j.get("kind", "")),
                    chat_template=bool(j.get("apply_chat_template")),
                    max_gen_toks=j.get("max_gen_toks"),
                    unparsable=int(unparsable.get(j.get("name"), 0) or 0),
                )
                for j in panel["judges"]
                if isinstance(j, dict)
            ]
            panels.append(
                JudgePanel(
                    method=str(method),
                    judges=judges,
                    n_items=int(panel.get("n_items") or 0),
                    abstained_items=int(panel.get("abstained_items") or 0),
                )
            )
        return panels
