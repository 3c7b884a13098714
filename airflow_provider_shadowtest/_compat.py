"""Every difference between the Airflow versions we support, in one place.

Airflow 3.1+ is required; the names below are where each piece lives there.
"""

from __future__ import annotations

# The metaclass that fills operator arguments from ``default_args`` and lets ``partial()`` and
# ``expand()`` accept them: a cooperative mixin that declares operator arguments needs it. The
# Task SDK defines it (Airflow 2 did in ``airflow.models.baseoperator``).
from airflow.sdk.bases.operator import BaseOperatorMeta

__all__ = ["BaseOperatorMeta", "default_deferrable"]


def default_deferrable() -> bool:
    """Return ``[operators] default_deferrable`` (False when unset).

    Airflow 3 exposes task-side configuration through ``airflow.sdk.configuration``; older
    3.x releases only through ``airflow.configuration``.
    """
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - Airflow < 3.1
        from airflow.configuration import conf
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))
