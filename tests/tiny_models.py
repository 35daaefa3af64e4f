"""Tests build their tiny offline models with the same builder the demo command uses."""

from evaluation.tiny_models import LETTERS, build_tiny_model

__all__ = ["LETTERS", "build_tiny_model"]
