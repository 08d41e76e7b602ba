"""Fixtures for the photo-stripping tests: the corpus."""

from __future__ import annotations

import pytest
from photo_corpus import Sample, build_corpus


@pytest.fixture(scope="session")
def corpus() -> list[Sample]:
    """Every sample photo of the corpus."""
    return build_corpus()
