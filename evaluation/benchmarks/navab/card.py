"""NaVAB's reproducibility card: what ran, on what, and the stock commands that repeat each
stage (the model for MC, its generated letters and the free answers, the AJ judge, the
reference judge)."""

from __future__ import annotations

from pathlib import Path

from evaluation import repro
from evaluation.benchmarks.navab.lm_eval_tasks import AJ, AJ_REF, GEN, JUDGED, MC, MC_GEN
from evaluation.release import load_manifest, sha256_file
from evaluation.results import ANSWERS_FILE, ReproCard
from evaluation.spec import ModelSpec


def build_card(
    spec: ModelSpec,
    judge: ModelSpec | None,
    reference_judge: ModelSpec | None,
    release_dir: Path,
    out_dir: Path | None,
    *,
    methods: list[str],
    not_run: dict[str, str],
    nations: list[str],
    modes: list[str],
    seed: int,
    device: str,
    reference_device: str,
    limit: int | None,
    max_gen_toks: int,
    task_names: dict[str, list[str]],
    started_at: str,
    duration_s: float,
) -> ReproCard:
    manifest = load_manifest(release_dir)
    release = {
        "path": str(release_dir),
        "version": str(manifest.get("version", "")),
        "total": manifest.get("total"),
        "triples_sha256": sha256_file(release_dir / "triples.jsonl"),
    }
    slices = {"nation": list(nations), "mode": list(modes)}
    out: Path | str = Path(out_dir).resolve() if out_dir is not None else "OUT_DIR"
    tasks_dir = f"{out}/tasks"

    def export(answers: str | None = None) -> str:
        return repro.export_command(
            release_dir,
            tasks_dir,
            benchmark="navab",
            methods=methods,
            slices=slices,
            limit=limit,
            max_gen_toks=max_gen_toks,
            answers=answers,
        )

    commands = [export()]
    judges = {MC: spec, MC_GEN: spec, GEN: spec, AJ: judge or spec, AJ_REF: reference_judge}
    exported_answers = False
    for kind, model in judges.items():
        if not task_names.get(kind) or model is None:
            continue
        if kind in JUDGED and not exported_answers:
            # One export with the answers writes the tasks of every judged method.
            commands.append(export(f"{out}/{ANSWERS_FILE}"))
            exported_answers = True
        commands.append(
            repro.lm_eval_command(
                model,
                task_names[kind],
                tasks_dir,
                f"{out}/lm_eval/{kind}",
                seed=seed,
                device=reference_device if kind == AJ_REF else device,
            )
        )
    return ReproCard(
        model=spec.to_dict(),
        judge=judge.to_dict() if judge else None,
        reference_judge=reference_judge.to_dict() if reference_judge else None,
        not_run=not_run,
        release=release,
        methods=methods,
        slices=slices,
        dtype=spec.dtype,
        batch_size=spec.batch_size,
        seed=seed,
        device=device,
        device_name=repro.device_name(device),
        max_gen_toks=max_gen_toks,
        limit=limit,
        versions=repro.versions(spec),
        command=repro.run_command(
            spec,
            judge,
            release_dir,
            out,
            benchmark="navab",
            methods=methods,
            slices=slices,
            seed=seed,
            device=device,
            limit=limit,
            max_gen_toks=max_gen_toks,
            reference_judge=reference_judge,
        ),
        lm_eval_commands=commands,
        started_at=started_at,
        duration_s=round(duration_s, 3),
    )
