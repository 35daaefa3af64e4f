"""The NaVAB benchmark: its whole definition lives in this folder."""

from evaluation.benchmarks.navab.definition import BENCHMARK, MODES, NATIONS, UNSCORED_MODES

__all__ = ["BENCHMARK", "MODES", "NATIONS", "UNSCORED_MODES"]
