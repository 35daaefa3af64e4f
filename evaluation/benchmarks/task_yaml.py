"""Writing lm-eval task configs: YAML with lm-eval's `!function module.name` tag, for tasks
whose metric or loader travels beside them as `utils.py`."""

from __future__ import annotations

import yaml


class Function(str):
    """A `!function module.name` reference in a task config."""


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(
    Function, lambda dumper, value: dumper.represent_scalar("!function", str(value))
)
