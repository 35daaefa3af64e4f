"""Cold and warm time of the board, map, disparity and model pages in-process, with a profile
of one of them: a quick loop on a kept scale state (see scale.py's `--keep`), not a figure of
issue 20 (scale.py times pages through gunicorn).

    DATABASE_URL=postgres://…/navab_big NAVAB_VAR_DIR=… DJANGO_SETTINGS_MODULE=leaderboard.settings \\
        .venv/bin/python benchmarks/cold_pages.py [--pages "dvb board,map"] [--profile map]

"Cold" as scale.py's `measure_pages`: every cached board and response made stale and the
cache cleared before the request. Compare times only within one run on a loaded machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = "dvb board,dvb board region,map,disparity,model page,navab board"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=PAGES, help="labels of scale.pages(), by commas")
    parser.add_argument("--profile", default="", help="the label of a page to profile cold")
    args = parser.parse_args()

    import django

    django.setup()
    import scale  # benchmarks/, next to this script
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from leaderboard.boards.cache import invalidate_boards

    settings.ALLOWED_HOSTS = ["*"]
    targets = scale.pages()
    for label in args.pages.split(","):
        path = targets[label]
        Client().get(path)  # what a process does once (imports, memos) is not the page's
        invalidate_boards()
        cache.clear()
        profile = cProfile.Profile() if label == args.profile else None
        began = time.perf_counter()
        if profile:
            profile.enable()
        status = Client().get(path).status_code
        if profile:
            profile.disable()
        cold = time.perf_counter() - began
        began = time.perf_counter()
        Client().get(path)
        warm = time.perf_counter() - began
        print(f"{label:20s} {status} cold {cold * 1000:7.0f} ms  warm {warm * 1000:6.0f} ms")
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue())


if __name__ == "__main__":
    main()
