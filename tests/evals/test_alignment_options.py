"""An alignment job's options are read through the job's properties (`alignment_target`,
`alignment_narrowing`, `alignment_label`), which know both stored shapes; a template that
read the raw JSON knew only the old one and showed "toward ()"."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
RAW_OPTIONS = re.compile(r"job\.alignment\.|\.alignment\.(target|narrow|nation|modes)\b")


def test_no_template_reads_an_alignment_jobs_raw_options():
    readers = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if RAW_OPTIONS.search(line)
    ]
    assert readers == []
