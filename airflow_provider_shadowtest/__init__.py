"""Apache Airflow provider for Amazon SageMaker shadow tests (inference experiments)."""

from __future__ import annotations

__version__ = "0.1.0"
