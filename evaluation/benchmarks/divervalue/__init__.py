"""DiverValue-Bench: its whole definition lives in this folder."""

from evaluation.benchmarks.divervalue.definition import BENCHMARK

__all__ = ["BENCHMARK"]
