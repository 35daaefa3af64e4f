"""A toy benchmark that exists only in the tests: proof that the benchmark contract is enough
to host a benchmark the site has never heard of (issue 11, item 5).

Two slice dimensions (country, averaged by the overall column; topic), one method with a
proportion metric (the correct rate) and a margin metric (the log-likelihood of the right
answer less the wrong one's). Its whole definition is this folder; other processes (a Celery
worker) find it through `EVAL_EXTRA_BENCHMARKS="toy=tests.toy_benchmark:BENCHMARK"`.
"""

from tests.toy_benchmark.definition import BENCHMARK, REGISTRATION

__all__ = ["BENCHMARK", "REGISTRATION"]
