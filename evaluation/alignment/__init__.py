"""Alignment toward a population: DPO + LoRA training (trl + peft) on any benchmark's pairs
(`BenchmarkDefinition.dpo_pairs`), with the items its `plan_alignment` chooses; `python -m evaluation
align` runs it from a release folder. Plain Python; torch, trl and peft are imported only when
training runs. A benchmark's own tools (NaVAB's topic split and margins) live in its folder.
"""

from evaluation.alignment.train import AlignmentResult, DPOSettings, PreferencePair, train_dpo

__all__ = ["AlignmentResult", "DPOSettings", "PreferencePair", "train_dpo"]
