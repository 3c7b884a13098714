"""Pure: the settings of a capture comparison, checked before anything is read."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.verdict.capture.outputs import InvalidCaptureSettings, OutputField

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class CaptureComparisonSettings:
    """How to compare the two variants' captured answers, and the limits each check allows.

    :param output: where the label or score sits in production's response body.
    :param shadow_output: the same for the shadow's responses, when its format differs.
    :param time_tolerance_seconds: the largest ``inferenceTime`` difference within a pair.
    :param min_pairs: fewer pairs make every comparison check INCONCLUSIVE.
    :param min_paired_percent: share of shadow records that must find a partner; below it the
        comparison is INCONCLUSIVE (the pairs might not represent the traffic).
    :param confidence: of every interval (0.95: 95 %).
    :param min_agreement_percent: labels: the agreement the candidate must show.
    :param score_difference_percentile: scores: which percentile of ``|shadow - production|``
        is checked.
    :param max_score_difference: scores: the largest allowed value of that percentile.
    :param max_psi: scores: the largest allowed population stability index (0.1 is the usual
        "no significant shift" limit; 0.25 a major shift).
    :param max_ks: scores: the largest allowed Kolmogorov-Smirnov distance between the
        two variants' score distributions.
    :param psi_bins: bins of the PSI, at production's quantiles.
    """

    output: OutputField
    shadow_output: OutputField | None = None
    time_tolerance_seconds: float = 10.0
    min_pairs: int = 200
    min_paired_percent: float = 80.0
    confidence: float = 0.95
    min_agreement_percent: float = 95.0
    score_difference_percentile: float = 99.0
    max_score_difference: float = 0.1
    max_psi: float = 0.1
    max_ks: float = 0.1
    psi_bins: int = 10

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []

        def number(name: str, low: float, high: float = math.inf, *, open_low: bool = False) -> None:
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if ok and (value < low or value > high or (open_low and value == low)):
                ok = False
            if not ok:
                bounds = f"> {low:g}" if open_low else f">= {low:g}"
                if high != math.inf:
                    bounds += f" and <= {high:g}"
                errors.append((name, f"must be a number {bounds}, got {value!r}"))

        number("time_tolerance_seconds", 0)
        number("min_pairs", 1)
        number("min_paired_percent", 0, 100)
        number("confidence", 0, 0.999999, open_low=True)
        number("min_agreement_percent", 0, 100)
        number("score_difference_percentile", 0, 100, open_low=True)
        number("max_score_difference", 0)
        number("max_psi", 0)
        number("max_ks", 0, 1)
        number("psi_bins", 2, 100)
        if self.shadow_output is not None and self.shadow_output.kind != self.output.kind:
            errors.append(("shadow_output.kind", f"must equal output.kind {self.output.kind!r}"))
        if errors:
            raise InvalidCaptureSettings(errors)

    @property
    def kind(self) -> str:
        """``"label"`` or ``"score"``."""
        return self.output.kind

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CaptureComparisonSettings:
        """Build from plain JSON (an operator's templated ``capture_comparison`` argument).

        ``{"output": {"kind": "label", "json_path": "$.label"}, "min_agreement_percent": 97}``

        :raises InvalidCaptureSettings: naming every bad field.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        errors = [(name, "unknown setting") for name in sorted(set(values) - known)]
        if "output" not in values or not isinstance(values.get("output"), dict):
            errors.append(("output", "required: {'kind': 'label'|'score', 'json_path' or 'csv_column'}"))
        if errors:
            raise InvalidCaptureSettings(errors)
        kwargs = dict(values)
        kwargs["output"] = OutputField.from_mapping(values["output"])
        if isinstance(values.get("shadow_output"), dict):
            kwargs["shadow_output"] = OutputField.from_mapping(values["shadow_output"])
        for name in ("min_pairs", "psi_bins"):
            if isinstance(kwargs.get(name), float) and kwargs[name].is_integer():
                kwargs[name] = int(kwargs[name])
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        """The settings as plain JSON (for XCom and the report)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, OutputField):
                value = {
                    k: v
                    for k, v in (("kind", value.kind), ("json_path", value.json_path), ("csv_column", value.csv_column))
                    if v is not None
                }
            out[f.name] = value
        return out
