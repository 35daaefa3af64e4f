"""UF-P-4, DiverValue-Bench's out-of-domain set: its whole definition lives in this folder."""

from evaluation.benchmarks.ufp4.definition import BENCHMARK

__all__ = ["BENCHMARK"]
