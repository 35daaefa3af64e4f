"""Alignment toward a population: DPO + LoRA training (trl + peft) on any benchmark's pairs, and
NaVAB's own tools (pairs from triples, a topic-held-out split, log-likelihood margins; each
benchmark's `plan_alignment` chooses its items). Plain Python; torch, trl and peft are imported
only when training or scoring runs.
"""

from evaluation.alignment.margins import MarginReport, load_scoring_model, measure_margins
from evaluation.alignment.pairs import DPOPair, build_pairs, select_records
from evaluation.alignment.pairset import PairSet, prepare_pairs, write_pair_set
from evaluation.alignment.source import PairSource, read_release_source
from evaluation.alignment.split import Split, split_by_topic, write_heldout_release
from evaluation.alignment.train import AlignmentResult, DPOSettings, train_dpo

__all__ = [
    "AlignmentResult",
    "DPOPair",
    "DPOSettings",
    "MarginReport",
    "PairSet",
    "PairSource",
    "Split",
    "build_pairs",
    "load_scoring_model",
    "measure_margins",
    "prepare_pairs",
    "read_release_source",
    "select_records",
    "split_by_topic",
    "train_dpo",
    "write_heldout_release",
    "write_pair_set",
]
