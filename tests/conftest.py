"""Shared fixtures. Tests run against the database in DATABASE_URL (PostgreSQL in CI)."""

import os

# Model weights and datasets never come from a hub during tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
