"""
AI technology (catalog service ``ai_technology``): no model is trained on anyone's data.

- the gate refuses the ``model_training`` purpose for every service's data
  (``ai_technology.no_training_on_user_data``), so :func:`draw` of any person's data fails
  with ``purpose_refused``;
- the staff training-data export (:class:`TrainingExport`) draws only from declared
  non-personal sources;
- :class:`TrainingJob` aborts at the first record that carries a planted canary;
- the enhancement features (:mod:`.enhance`) run on the device and keep nothing.
"""

from __future__ import annotations

from charter.services.ai.training import (
    NON_PERSONAL_SOURCES,
    CanaryTrippedError,
    TrainingExport,
    TrainingJob,
    draw,
)

__all__ = ["NON_PERSONAL_SOURCES", "CanaryTrippedError", "TrainingExport", "TrainingJob", "draw"]
