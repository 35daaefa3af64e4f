"""The `<benchmark:...>` URL segment: a registered benchmark's slug, so that a path whose first
segment names no benchmark falls through to the site's other pages (and then to a 404)."""

from __future__ import annotations

from evaluation.benchmarks import benchmark_slugs


class BenchmarkConverter:
    regex = "[a-z0-9][a-z0-9_-]*"

    def to_python(self, value: str) -> str:
        # Read at request time: benchmarks registered at run time (tests) are routed too.
        if value not in benchmark_slugs():
            raise ValueError(f"no benchmark {value!r}")
        return value

    def to_url(self, value: str) -> str:
        return value
