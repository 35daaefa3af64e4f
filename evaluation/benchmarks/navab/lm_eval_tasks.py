"""lm-eval task configs generated from a release: one task per nation x mode x method.

Each task reads a JSON-lines data file (absolute path) whose documents are already
position-balanced and fully rendered (`prompt`), so stock lm-eval computes exactly the
log-likelihoods our harness uses. Layout of an export directory:

    navab_mc_<nation>_<mode>.yaml        MC tasks (multiple_choice, metric acc)
    navab_aj_gen_<nation>_<mode>.yaml    AJ stage 1: the model answers freely (generate_until)
    navab_aj_<nation>_<mode>.yaml        AJ stage 2: the judge picks a reference (needs answers)
    navab_mc_gen_<nation>_<mode>.yaml    MC answered by a generated letter (chat models),
                                         scored by utils.py (evaluation/providers/letters.py)
    navab_aj_ref_<nation>_<mode>.yaml    the same documents, for the site's reference judge
    _navab_<method>[_<nation>].yaml      groups: per nation, and overall per method
    data/<task>.jsonl                    the documents
    README.md                            how to run them with stock lm-eval
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation.benchmarks.contract import ShownPrompt
from evaluation.benchmarks.navab.balance import BalancedItem
from evaluation.benchmarks.navab.judging import JudgeItem, judge_items
from evaluation.benchmarks.navab.prompts import (
    ANSWER_STOP,
    CHOICES,
    MC_GEN_STOP,
    answer_prompt,
    judge_prompt,
    mc_gen_prompt,
    mc_prompt,
)
from evaluation.benchmarks.task_yaml import Dumper, Function
from evaluation.providers import letters

MC = "mc"
AJ = "aj"
AJ_REF = "aj_ref"
MC_GEN = "mc_gen"
METHODS = (MC, AJ, MC_GEN, AJ_REF)
#: the methods that judge the free answers: by the model itself (or a chosen judge), and by
#: the site's reference judge; their tasks hold the same documents under their own names
JUDGED = (AJ, AJ_REF)
GEN = "aj_gen"
DATA_DIR = "data"
TASK_VERSION = 1.0


def task_name(kind: str, nation: str, mode: str) -> str:
    return f"navab_{kind}_{nation}_{mode}"


def group_name(kind: str, nation: str | None = None) -> str:
    return f"navab_{kind}" if nation is None else f"navab_{kind}_{nation}"


@dataclass
class ExportedTasks:
    """Names of the tasks and groups written, and which (nation, mode) each task scores."""

    directory: Path
    tasks: dict[str, list[str]] = field(default_factory=dict)  # kind -> task names
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # task -> (nation, mode)

    def names(self, kind: str) -> list[str]:
        return list(self.tasks.get(kind, []))


def _base_doc(item: BalancedItem | JudgeItem) -> dict[str, Any]:
    return {
        "uid": item.uid,
        "nation": item.nation,
        "mode": item.mode,
        "half": item.half,
        "question": item.question,
        "option_a": item.option_a,
        "option_b": item.option_b,
        "gold": item.gold,
    }


def mc_doc(item: BalancedItem) -> dict[str, Any]:
    return _base_doc(item) | {"prompt": mc_prompt(item.question, item.option_a, item.option_b)}


def mc_gen_doc(item: BalancedItem) -> dict[str, Any]:
    prompt = mc_gen_prompt(item.question, item.option_a, item.option_b)
    return _base_doc(item) | {"prompt": prompt}


def gen_doc(item: BalancedItem) -> dict[str, Any]:
    return _base_doc(item) | {"statement": item.statement, "prompt": answer_prompt(item.question)}


def judge_doc(item: JudgeItem) -> dict[str, Any]:
    prompt = judge_prompt(item.question, item.answer, item.option_a, item.option_b)
    return _base_doc(item) | {"answer": item.answer, "prompt": prompt}


def _write_jsonl(path: Path, docs: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")


def _task_config(name: str, data_file: Path, kind: str, max_gen_toks: int) -> dict[str, Any]:
    config: dict[str, Any] = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test",
        "num_fewshot": 0,
        "doc_to_text": "prompt",
        "metadata": {"version": TASK_VERSION},
    }
    if kind == MC_GEN:
        config |= {
            "output_type": "generate_until",
            "doc_to_target": "gold",
            "generation_kwargs": {
                "until": list(MC_GEN_STOP),
                "do_sample": False,
                "temperature": 0.0,
                "max_gen_toks": max_gen_toks,
            },
            "process_results": Function("utils.process_results"),
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        }
    elif kind == GEN:
        config |= {
            "output_type": "generate_until",
            "doc_to_target": "statement",
            "generation_kwargs": {
                "until": list(ANSWER_STOP),
                "do_sample": False,
                "temperature": 0.0,
                "max_gen_toks": max_gen_toks,
            },
            "metric_list": [{"metric": "bypass", "aggregation": "bypass"}],
        }
    else:
        config |= {
            "output_type": "multiple_choice",
            "doc_to_choice": list(CHOICES),
            "doc_to_target": "gold",
            # The choices carry their own leading space.
            "target_delimiter": "",
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        }
        if kind == AJ_REF:
            # An empty free answer is no answer: 0, however the judge leans (utils.py).
            config["process_results"] = Function("utils.process_judged")
    return config


def _dump(path: Path, config: dict[str, Any]) -> None:
    text = yaml.dump(config, Dumper=Dumper, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")


def _write_groups(out_dir: Path, kind: str, by_nation: Mapping[str, list[str]]) -> None:
    aggregate = [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}]
    nation_groups = []
    for nation, names in sorted(by_nation.items()):
        group: dict[str, Any] = {"group": group_name(kind, nation), "task": names}
        if kind != GEN:
            group["aggregate_metric_list"] = aggregate
        _dump(out_dir / f"_{group_name(kind, nation)}.yaml", group | {"metadata": {"version": 1}})
        nation_groups.append(group_name(kind, nation))
    overall: dict[str, Any] = {"group": group_name(kind), "task": nation_groups}
    if kind != GEN:
        overall["aggregate_metric_list"] = aggregate
    _dump(out_dir / f"_{group_name(kind)}.yaml", overall | {"metadata": {"version": 1}})


def _write_kind(
    out_dir: Path,
    exported: ExportedTasks,
    kind: str,
    docs_by_cell: Mapping[tuple[str, str], list[dict[str, Any]]],
    max_gen_toks: int,
) -> None:
    by_nation: dict[str, list[str]] = {}
    for (nation, mode), docs in sorted(docs_by_cell.items()):
        if not docs:
            continue  # lm-eval cannot load an empty dataset
        name = task_name(kind, nation, mode)
        data_file = out_dir / DATA_DIR / f"{name}.jsonl"
        _write_jsonl(data_file, docs)
        _dump(out_dir / f"{name}.yaml", _task_config(name, data_file, kind, max_gen_toks))
        exported.tasks.setdefault(kind, []).append(name)
        exported.cells[name] = (nation, mode)
        by_nation.setdefault(nation, []).append(name)
        if kind in (MC_GEN, AJ_REF):
            # The letter parser and the judged metric travel with the tasks, so stock lm-eval
            # scores them as the site does.
            shutil.copyfile(letters.__file__, out_dir / "utils.py")
    if by_nation:
        _write_groups(out_dir, kind, by_nation)


def export_tasks(
    cells: Mapping[tuple[str, str], Sequence[BalancedItem]],
    out_dir: Path,
    *,
    methods: Sequence[str] = METHODS,
    max_gen_toks: int = 128,
    answers: Mapping[str, str] | None = None,
) -> ExportedTasks:
    """Write the task configs and data for `cells` into `out_dir` (replacing an earlier export).

    AJ needs two stages: the generation tasks are written for either judged method; the
    judge tasks only when `answers` (uid -> the model's free answer) is given, for the items
    that have one.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("navab_*.yaml"), *out_dir.glob("_navab_*.yaml")]:
        old.unlink()
    (out_dir / "utils.py").unlink(missing_ok=True)
    shutil.rmtree(out_dir / DATA_DIR, ignore_errors=True)
    exported = ExportedTasks(directory=out_dir)
    if MC in methods:
        mc_docs = {key: [mc_doc(i) for i in items] for key, items in cells.items()}
        _write_kind(out_dir, exported, MC, mc_docs, max_gen_toks)
    if MC_GEN in methods:
        gen_mc_docs = {key: [mc_gen_doc(i) for i in items] for key, items in cells.items()}
        _write_kind(out_dir, exported, MC_GEN, gen_mc_docs, max_gen_toks)
    if any(kind in methods for kind in JUDGED):
        gen_docs = {key: [gen_doc(i) for i in items] for key, items in cells.items()}
        _write_kind(out_dir, exported, GEN, gen_docs, max_gen_toks)
        if answers is not None:
            kinds = [kind for kind in JUDGED if kind in methods]
            write_judge_tasks(judge_items(cells, answers), out_dir, exported, kinds)
    write_readme(out_dir, exported)
    return exported


def write_judge_tasks(
    items: Mapping[tuple[str, str], Sequence[JudgeItem]],
    out_dir: Path,
    exported: ExportedTasks,
    kinds: Sequence[str] = (AJ,),
) -> None:
    """AJ stage 2: one judge task per cell and judged method (`kinds`) over `items`, wherever
    their answers came from."""
    judge_docs = {key: [judge_doc(i) for i in cell] for key, cell in items.items()}
    for kind in kinds:
        _write_kind(Path(out_dir).resolve(), exported, kind, judge_docs, max_gen_toks=0)
    write_readme(out_dir, exported)


README = """\
# NaVAB tasks for lm-eval

Generated by `python -m evaluation export-tasks`. Data files are referenced by absolute path:
move this directory and export again. Documents are position-balanced (within each
nation x mode, sorted by uid: even index puts the statement S as option A, odd index puts
the reverse statement RS as A) and carry the fully rendered prompt, so the stock harness
scores exactly what the NaVAB harness scores.

## MC

    lm_eval --model hf --model_args pretrained=MODEL,revision=SHA,dtype=float32 \\
        --tasks {mc} --include_path {dir} --batch_size 8 --log_samples --output_path out/

`acc` of a task is the correct rate of that nation x mode; the groups `navab_mc_<nation>` and
`navab_mc` report the size-weighted mean. The pos / neg half rates are the mean of `acc` over
samples whose document has `half` = pos / neg.

## AJ (two stages)

1. The model answers each question (greedy generation):

       lm_eval ... --tasks {gen} --include_path {dir} --log_samples --output_path out/

2. A judge (by default the same model) picks the reference closer to the answer. The judge
   tasks `navab_aj_<nation>_<mode>` need the answers as data: `python -m evaluation run`
   writes them to `answers.jsonl`; export with them and run the judge with stock lm-eval:

       python -m evaluation export-tasks RELEASE_DIR {dir} --answers answers.jsonl
       lm_eval --model hf --model_args pretrained=JUDGE,... --tasks navab_aj \\
           --include_path {dir} --log_samples --output_path out/

   The reference-judged AJ (`aj_ref`) judges the same answers (of any model, open or served)
   with the site's reference judge: its tasks `navab_aj_ref_<nation>_<mode>` hold the same
   documents, run with `--model hf --model_args pretrained=REFERENCE_JUDGE,revision=SHA`;
   their `acc` (`utils.process_judged`) scores an empty answer 0, as no answer.

## MC answered by a generated letter (chat models, `navab_mc_gen`)

    OPENAI_API_KEY="$PROVIDER_KEY" lm_eval --model local-chat-completions \\
        --model_args model=MODEL,base_url=https://HOST/v1/chat/completions,num_concurrent=1 \\
        --apply_chat_template --tasks navab_mc_gen --include_path {dir} --batch_size 1 \\
        --log_samples --output_path out/

`acc` reads the letter with `utils.py` (strict, then the documented fallback); an answer with
no letter scores 0. Use `local-chat-completions`, not `openai-chat-completions`: the latter
drops stop sequences and forces temperature 1 for model names containing "5", "o1", "o3" or
"o4". lm-eval turns a response blocked by a content filter into "" (counted here as empty).

Tasks in this export: {names}
"""


def write_readme(out_dir: Path, exported: ExportedTasks) -> None:
    names = ", ".join(name for kind in exported.tasks.values() for name in kind) or "(none)"
    text = README.format(
        mc=group_name(MC), gen=group_name(GEN), dir=exported.directory, names=names
    )
    (Path(out_dir) / "README.md").write_text(text, encoding="utf-8")


def _shown(label: str, kind: str, doc: Mapping[str, Any], generated: str = "") -> ShownPrompt:
    """A document as its task presents it: the prompt, and the choices or stops its config
    declares (read from the config itself, so the page cannot drift from the task)."""
    config = _task_config(task_name(kind, doc["nation"], doc["mode"]), Path(DATA_DIR), kind, 1)
    if config["output_type"] == "multiple_choice":
        return ShownPrompt(label, doc["prompt"], continuations=tuple(config["doc_to_choice"]))
    until = tuple(config["generation_kwargs"]["until"])
    return ShownPrompt(label, doc["prompt"], until=until, generated=generated)


def shown_prompts(
    kind: str, item: BalancedItem, *, answer: str = "", response: str = ""
) -> list[ShownPrompt]:
    """The requests method KIND made for ITEM (arranged on the half it ran on), in order:
    what the model was given and, for the judged methods, what the judge was given about
    the model's free ANSWER. RESPONSE is a generated letter answer, where recorded."""
    if kind == MC:
        return [_shown("Model", MC, mc_doc(item))]
    if kind == MC_GEN:
        return [_shown("Model", MC_GEN, mc_gen_doc(item), response)]
    if kind in JUDGED:
        judge = "Reference judge" if kind == AJ_REF else "Judge"
        shown = [_shown("Model", GEN, gen_doc(item), answer)]
        for cell in judge_items({(item.nation, item.mode): [item]}, {item.uid: answer}).values():
            shown += [_shown(judge, kind, judge_doc(judged)) for judged in cell]
        return shown
    return []
