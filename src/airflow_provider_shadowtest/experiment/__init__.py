"""Pure core: the CreateInferenceExperiment request model, validation, schedule and lifecycle rules."""

from __future__ import annotations

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest

__all__ = ["InvalidExperimentRequest"]
