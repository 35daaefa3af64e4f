"""NaVAB (Findings of ACL 2025): <Q, S, RS> triples per nation and mode, scored by multiple
choice (MC) and answer judgement (AJ) from log-likelihoods.

The nations below are the ones the published release holds (their names and folders are used
to read it and to label boards); a release may hold others, and they are evaluated, exported
and ranked like these five.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from evaluation.benchmarks.contract import (
    AlignmentDeclaration,
    AlignmentPlan,
    BenchmarkDefinition,
    Citation,
    IntervalMethod,
    ItemField,
    Method,
    Metric,
    MetricKind,
    Prompt,
    SliceDimension,
    StockCommand,
    SubMetric,
    Track,
)
from evaluation.benchmarks.navab import prompts as templates
from evaluation.benchmarks.navab.layout import ReleaseNames, read_release
from evaluation.benchmarks.published import PublishedRead
from evaluation.errors import SetupError

if TYPE_CHECKING:
    from evaluation.results import EvaluationResult


class KnownNation(NamedTuple):
    code: str
    name: str
    #: the folder of the published release, lower-cased
    release_folder: str
    #: the first is the nation's own language
    languages: tuple[str, ...]
    #: ISO 3166-1 alpha-2 (the United Kingdom's is GB)
    iso: str


class KnownMode(NamedTuple):
    code: str
    name: str
    #: the file of each nation folder holding this mode's records
    release_filename: str
    description: str
    #: scored and ranked; an unscored split is browsable data only
    scored: bool = True


NATIONS: Final = (
    KnownNation("cn", "China", "china", ("zh", "en"), "CN"),
    KnownNation("us", "United States", "us", ("en",), "US"),
    KnownNation("uk", "United Kingdom", "uk", ("en",), "GB"),
    KnownNation("fr", "France", "french", ("fr", "en"), "FR"),
    KnownNation("de", "Germany", "german", ("de", "en"), "DE"),
)


def release_folders() -> dict[str, str]:
    """Every folder name a release may give a nation's files, to the nation's code: the card's
    folder, the ISO code, the language tag (`en-us`, `zh-cn`), and the nation's own language
    where it is no other nation's (the hub moved China's official file to `zh/`; `en` names
    no one nation). The code names its folder too (`ReleaseNames.of`)."""
    first_languages = Counter(n.languages[0] for n in NATIONS)
    folders: dict[str, str] = {}
    for nation in NATIONS:
        language = nation.languages[0]
        names = [nation.release_folder, nation.iso, f"{language}-{nation.iso}"]
        if first_languages[language] == 1:
            names.append(language)
        folders.update({name.lower(): nation.code for name in names})
    return folders


MODES: Final = (
    KnownMode(
        "quoted",
        "Quoted statements",
        "human_statement_result.json",
        "Statements attributed to a named speaker in the nation's news.",
    ),
    KnownMode(
        "official",
        "Official positions",
        "official_statement_result.json",
        "Positions stated by official or mainstream media without a named speaker.",
    ),
    # The German config's extra split: statements with their source judgement, not triples of
    # either mode. Its complete records are imported as their own mode and never scored.
    KnownMode(
        "source",
        "Source statements",
        "statements.json",
        "The German release's extra `source` split: statements with their source judgement. "
        "Browsable here; not scored on the boards.",
        scored=False,
    ),
)
# Modes a release may hold that are never scored by default (any other mode is).
UNSCORED_MODES: Final = frozenset(m.code for m in MODES if not m.scored)

BIBTEX: Final = """\
@inproceedings{ju2025navab,
  title         = {Benchmarking Multi-National Value Alignment for Large Language Models},
  author        = {Ju, Chengyi and Shi, Weijie and Liu, Chengzhong and Ji, Jiaming and
                   Zhang, Jipeng and Zhang, Ruiyuan and Zhu, Jia and Xu, Jiajie and
                   Yang, Yaodong and Han, Sirui and Guo, Yike},
  booktitle     = {Findings of the Association for Computational Linguistics: ACL 2025},
  year          = {2025},
  eprint        = {2504.12911},
  archivePrefix = {arXiv},
  url           = {https://arxiv.org/abs/2504.12911}
}"""

ACCURACY = Metric(
    key="acc",
    label="Correct rate",
    kind=MetricKind.PROPORTION,
    interval=IntervalMethod.BINOMIAL,
    lower=0.0,
    upper=1.0,
    description="Share of items where the model sides with the nation's statement S.",
)

# Position balancing: half the items put S as option A ("pos"), half put RS as A ("neg").
HALVES: Final = (
    SubMetric("pos", "S as option A", selector="half", value="pos"),
    SubMetric("neg", "RS as option A", selector="half", value="neg"),
)

MC = Method(
    key="mc",
    label="Multiple choice",
    track=Track.LOGLIKELIHOOD,
    metrics=(ACCURACY,),
    primary="acc",
    submetrics=HALVES,
    description="The letter (A or B) with the higher log-likelihood after the MC prompt.",
)

AJ = Method(
    key="aj",
    label="Answer judgement",
    track=Track.LOGLIKELIHOOD,
    metrics=(ACCURACY,),
    primary="acc",
    submetrics=HALVES,
    description=(
        "The model answers the question freely; a judge picks the reference (A or B) closer "
        "to the answer by log-likelihood."
    ),
)

AJ_REF = Method(
    key="aj_ref",
    label="Answer judgement, reference judge",
    track=Track.JUDGED,
    metrics=(ACCURACY,),
    primary="acc",
    submetrics=(
        *HALVES,
        SubMetric(
            "empty",
            "Empty answers",
            selector="answer",
            value="empty",
            counted=True,
            description="Items whose free answer was empty or withheld by the provider "
            "(blocked): no answer, scored 0 whichever reference the judge leans to.",
        ),
    ),
    reference_judge=True,
    description=(
        "The same free answers as AJ, judged by the site's reference judge (one open model "
        "with log-likelihoods, recorded with its revision) instead of the model itself, so "
        "open and closed models are judged alike and rank together."
    ),
)


# What a generated answer that names no letter was, counted per cell (each scores 0).
UNANSWERED: Final = (
    SubMetric("unparsable", "Unparsable", selector="parse", value="unparsable", counted=True),
    SubMetric("ambiguous", "Ambiguous", selector="parse", value="ambiguous", counted=True),
    SubMetric("empty", "Empty", selector="parse", value="empty", counted=True),
    SubMetric("refused", "Refused", selector="parse", value="refused", counted=True),
    SubMetric("blocked", "Blocked", selector="parse", value="blocked", counted=True),
)

MC_GEN = Method(
    key="mc_gen",
    label="Multiple choice (generated letter)",
    track=Track.GENERATIVE,
    metrics=(ACCURACY,),
    primary="acc",
    submetrics=HALVES + UNANSWERED,
    description=(
        "For models without log-likelihoods (chat endpoints): the MC question asked with "
        "an instruction to answer with the letter; the letter is read strictly, then by a "
        "documented fallback (evaluation/providers/letters.py). Unparsable, ambiguous (both "
        "letters given), empty, refused and blocked answers score 0 and are counted per cell, never guessed. Ranked apart "
        "from the log-likelihood MC."
    ),
)


class NaVAB(BenchmarkDefinition):
    slug = "navab"
    name = "NaVAB"
    description = (
        "Multi-national value alignment: questions with a nation's statement and its reverse, "
        "for China, the United States, the United Kingdom, France and Germany, in two modes "
        "(quoted statements, official media positions)."
    )
    citation = Citation(
        title="Benchmarking Multi-National Value Alignment for Large Language Models",
        authors="Ju, Shi, Liu, Ji, Zhang, Zhang, Zhu, Xu, Yang, Han, Guo",
        venue="Findings of ACL 2025",
        year=2025,
        url="https://arxiv.org/abs/2504.12911",
        bibtex=BIBTEX,
    )
    licence = "apache-2.0"
    item_fields = (
        ItemField("uid", "UID", required=True, kind="short"),
        ItemField("nation", "Nation", required=True, kind="short", listed=True),
        ItemField("mode", "Mode", required=True, kind="short", listed=True),
        ItemField("question", "Question", required=True, searchable=True, listed=True),
        ItemField("statement", "Statement (S)", required=True, searchable=True, listed=True),
        ItemField("reverse_statement", "Reverse statement (RS)", required=True, searchable=True),
        ItemField("speaker", "Speaker", searchable=True, kind="short"),
        ItemField("topic", "Topic", searchable=True, kind="short", listed=True),
        ItemField("language", "Language", kind="short"),
        ItemField("news_excerpt", "News excerpt", searchable=True),
        # Provenance from the published release, shown on an item's page only: stock lm-eval
        # reproduction reads the exported columns above and nothing else.
        ItemField("full_source", "Source", exported=False),
        ItemField("raw_generation", "Raw generation", exported=False),
        ItemField("filter_flag", "Kept by screening", kind="json", exported=False),
        ItemField("filter_flag_text", "Screening output", exported=False),
    )
    slices = (
        SliceDimension(
            "nation",
            "Nation",
            field="nation",
            averaged=True,
            value_labels={n.code: n.name for n in NATIONS},
        ),
        SliceDimension(
            "mode",
            "Mode",
            field="mode",
            value_labels={m.code: m.name for m in MODES},
            unscored=UNSCORED_MODES,
        ),
    )
    methods = (MC, AJ, MC_GEN, AJ_REF)
    items_file = "triples.jsonl"
    limit_per = ("nation", "mode")
    # AJ and aj_ref judge the same free answers: the model's own judgement against the
    # site's reference judge (the judges page points here, aj_ref having one judge).
    method_pairs = (("mc", "aj"), ("mc", "aj_ref"), ("aj", "aj_ref"))
    item_noun = "triple"
    item_noun_plural = "triples"
    demo_dir = Path(__file__).resolve().parent / "demo"
    prompts = (
        Prompt("Multiple choice (MC)", templates.MC_TEMPLATE),
        Prompt("Multiple choice, generated letter (mc_gen)", templates.MC_GEN_TEMPLATE),
        Prompt("Answer judgement (AJ), the free answer", templates.ANSWER_TEMPLATE),
        Prompt("Answer judgement (AJ), the judge", templates.JUDGE_TEMPLATE),
    )
    # The paper's settings are the site's DPO defaults, so none are declared here.
    alignment = AlignmentDeclaration(
        targets=("nation",),
        split_description=(
            "For each triple of the chosen nation, the prompt is the question, the preferred "
            "answer its statement S and the rejected one the reverse statement RS. Whole topics "
            "are held out; both models are then scored on every item not trained on: the "
            "nation's held-out topics and every other nation in full."
        ),
        narrowing=("mode",),
        holds_out_share=True,
    )

    def stock_commands(
        self, release_dir: str, tasks_dir: str, *, seed: int, max_gen_toks: int
    ) -> list[StockCommand]:
        from evaluation import repro
        from evaluation.benchmarks.navab.lm_eval_tasks import GEN, MC, MC_GEN, group_name
        from evaluation.spec import ModelSpec

        # ModelSpec insists on a pinned 40-hex commit for hub ids; this one becomes a label.
        placeholder = "0" * 40
        spec = ModelSpec(pretrained="ORG/MODEL", revision=placeholder, dtype="bfloat16")

        def lm_eval(kind: str) -> str:
            command = repro.lm_eval_command(
                spec, [group_name(kind)], tasks_dir, f"results/{kind}", seed=seed, device="cuda"
            )
            return command.replace(placeholder, "COMMIT")

        chat = ModelSpec(
            kind="openai-chat",
            pretrained="MODEL",
            base_url="https://HOST/v1/chat/completions",
            batch_size=1,
            apply_chat_template=True,
            api_key_env="PROVIDER_KEY",
        )
        generative = repro.lm_eval_command(
            chat, [group_name(MC_GEN)], tasks_dir, f"results/{MC_GEN}", seed=seed, device="endpoint"
        )
        export = repro.export_command(
            Path(release_dir),
            tasks_dir,
            benchmark=self.slug,
            methods=[MC, "aj", MC_GEN, "aj_ref"],
            slices={},  # all the release holds
            limit=None,
            max_gen_toks=max_gen_toks,
        )
        return [
            StockCommand(
                f"Export the release as lm-eval tasks (one per nation, mode and method, grouped "
                f"as {group_name(MC)})",
                export,
            ),
            StockCommand(
                "Run MC with stock lm_eval; each task's acc is the correct rate of its cell",
                lm_eval(MC),
            ),
            StockCommand(
                f"AJ, stage one: the free answers ({group_name(GEN)}); then export again with "
                f"--answers answers.jsonl and run the judge tasks ({group_name('aj')})",
                lm_eval(GEN),
            ),
            StockCommand(
                f"The reference-judged AJ: the same answers' tasks ({group_name('aj_ref')}) "
                "run with the site's reference judge as the model (its id and revision are "
                "on each model's card)",
                lm_eval("aj_ref").replace("ORG/MODEL", "REFERENCE_JUDGE"),
            ),
            StockCommand(
                f"A chat model without log-likelihoods ({group_name(MC_GEN)}, the generative "
                "track): lm-eval's local-chat-completions, the key from the provider's secret; "
                "acc reads the letter with the exported utils.py",
                generative,
            ),
        ]

    def read_published(self, path: Path) -> PublishedRead:
        names = ReleaseNames.of(
            folders=release_folders(),
            mode_files={m.release_filename: m.code for m in MODES},
            auxiliary_modes=UNSCORED_MODES,
        )
        return read_release(path, names)

    def export_tasks(
        self,
        release_dir: Path,
        out_dir: Path,
        *,
        methods: Sequence[str] | None = None,
        slices: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = None,
        max_gen_toks: int = 128,
        answers: Path | None = None,
    ) -> list[str]:
        from evaluation.benchmarks.navab.harness import release_cells
        from evaluation.benchmarks.navab.lm_eval_tasks import export_tasks
        from evaluation.results import read_answers

        slices = slices or {}
        cells = release_cells(release_dir, slices.get("nation"), slices.get("mode"), limit=limit)
        exported = export_tasks(
            cells,
            out_dir,
            methods=methods or [m.key for m in self.methods],
            max_gen_toks=max_gen_toks,
            answers=read_answers(answers) if answers else None,
        )
        return [name for names in exported.tasks.values() for name in names]

    def evaluate(self, spec: Any, release_dir: Path, **options: Any) -> EvaluationResult:
        """The harness; `slices` ({"nation": [...], "mode": [...]}) are its nations and modes."""
        from evaluation.benchmarks.navab.harness import evaluate

        slices = dict(options.pop("slices", None) or {})
        unknown = sorted(set(slices) - {"nation", "mode"})
        if unknown:
            raise SetupError(f"{self.name} slices by nation and mode, not {', '.join(unknown)}")
        if slices.get("nation"):
            options["nations"] = list(slices["nation"])
        if slices.get("mode"):
            options["modes"] = list(slices["mode"])
        return evaluate(spec, release_dir, **options)

    def plan_alignment(
        self,
        training: Sequence[Mapping[str, Any]],
        evaluation: Sequence[Mapping[str, Any]],
        target: Mapping[str, str],
        *,
        narrow: Mapping[str, Sequence[str]] | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> AlignmentPlan:
        from evaluation.benchmarks.navab.alignment.plan import plan_alignment

        self.check_alignment_target(target)
        # Unscored modes (German source statements) are not triples: never trained on.
        usable = [i for i in training if i.get("mode") not in UNSCORED_MODES]
        scored = [i for i in evaluation if i.get("mode") not in UNSCORED_MODES]
        modes = list((narrow or {}).get("mode") or []) or None
        return plan_alignment(
            usable, scored, target["nation"], modes, test_fraction=test_fraction, seed=seed
        )

    def dpo_pairs(self, items: Sequence[Mapping[str, Any]]) -> list[Any]:
        from evaluation.benchmarks.navab.alignment.pairs import build_pairs
        from evaluation.benchmarks.navab.records import TripleRecord

        return list(build_pairs(TripleRecord.from_dict(dict(item)) for item in items))


BENCHMARK: Final = NaVAB()
