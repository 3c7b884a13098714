"""StopInferenceExperimentOperator: end a shadow test, promoting, retaining or removing each variant.

Also importable from :mod:`airflow_provider_shadowtest.operators.inference_experiment`, with the
other lifecycle operators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_shadowtest.connection import CONNECTION_TEMPLATE_FIELDS
from airflow_provider_shadowtest.exceptions import ExperimentConflict, ExperimentStateError
from airflow_provider_shadowtest.experiment import actions, lifecycle
from airflow_provider_shadowtest.lineage import OpenLineageMixin
from airflow_provider_shadowtest.operators.base import (
    InferenceExperimentWaitingOperator,
    checked,
    described_from_event,
)
from airflow_provider_shadowtest.parsing import parse_bool

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_shadowtest._compat import Context


class StopInferenceExperimentOperator(OpenLineageMixin, InferenceExperimentWaitingOperator):
    """Stop a Running (or Created) inference experiment, and promote the shadow variant or not.

    ``promote=True`` is the short form of ``model_variant_actions={<shadow>: "Promote",
    <production>: "Remove"}``: the shadow variant replaces the production variant on the
    endpoint. Without promotion the production variant is retained and the shadow removed.

    A retried task finding the experiment already Completed or Cancelled succeeds when nothing
    was to be promoted, or when the endpoint's production variant already serves the shadow's
    model; otherwise it fails (the experiment ended without the promotion). A Stop whose answer
    was lost and that botocore retried meets its own first attempt (ConflictException, status
    Stopping): that is not a conflict, and the task goes on; once the experiment has ended, a
    promotion is checked on the endpoint as above.

    :param experiment_name: the experiment's name.
    :param promote: promote the shadow variant (see above).
    :param model_variant_actions: explicit ``{variant name: "Promote" | "Remove" | "Retain"}``,
        instead of ``promote``.
    :param desired_state: ``"Completed"`` (default) or ``"Cancelled"``.
    :param reason: why the experiment stops; SageMaker reports it as ``StatusReason``.
    :param promote_with: instance settings of the promoted variant, sent as
        ``DesiredModelVariants``: ``"production_settings"`` (default, AWS's recommendation: the
        production variant's instance type and count), ``"shadow_settings"`` (the shadow
        variant's own), or an explicit ``DesiredModelVariants`` list in the API's shape (or its
        JSON), checked against the experiment's variants. Named settings apply to a promotion only.
    :param desired_model_variants: the same as an explicit ``promote_with`` list (kept for
        compatibility; give one or the other).
    :param wait_for_completion: wait until the experiment is Completed or Cancelled.

    Waiting parameters are those of
    :class:`~airflow_provider_shadowtest.operators.base.InferenceExperimentWaitingOperator`.
    Returns the experiment's summary with ``"model_variant_actions"``, ``"promoted_variant"``
    (None when nothing was promoted) and ``"stopped"`` (False when it had already ended).
    """

    template_fields: Sequence[str] = (
        "experiment_name",
        "promote",
        "model_variant_actions",
        "desired_state",
        "reason",
        "desired_model_variants",
        "promote_with",
        "wait_for_completion",
        *CONNECTION_TEMPLATE_FIELDS,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "model_variant_actions": "json",
        "desired_model_variants": "json",
        "promote_with": "json",
        "botocore_config": "json",
    }

    def __init__(
        self,
        *,
        experiment_name: str,
        promote: bool | str = False,
        model_variant_actions: dict[str, str] | str | None = None,
        desired_state: str | None = None,
        reason: str | None = None,
        desired_model_variants: list[dict[str, Any]] | str | None = None,
        promote_with: str | list[dict[str, Any]] | None = None,
        wait_for_completion: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.experiment_name = experiment_name
        self.promote = promote
        self.model_variant_actions = model_variant_actions
        self.desired_state = desired_state
        self.reason = reason
        self.desired_model_variants = desired_model_variants
        self.promote_with = promote_with
        self.wait_for_completion = wait_for_completion

    def execute(self, context: Context) -> dict[str, Any]:
        name = self.experiment_name
        what = f"stop of inference experiment {name!r}"
        promote = checked(lambda: parse_bool("promote", self.promote), what=what)
        wait = checked(lambda: parse_bool("wait_for_completion", self.wait_for_completion), what=what)
        described = self.settle(name)
        self.persist_links(context, described)
        request = checked(lambda: self._request(described, promote), what=what)
        variant_actions = request["ModelVariantActions"]
        promoted = actions.promoted_variant(variant_actions)
        status = described["Status"]
        if status in lifecycle.TERMINAL_STATUSES:
            return self._already_ended(described, promoted, variant_actions)
        self.log.info(
            "Stopping inference experiment %r on endpoint %r (%s -> %s): %s%s",
            name,
            (described.get("EndpointMetadata") or {}).get("EndpointName"),
            status,
            request.get("DesiredState", lifecycle.COMPLETED),
            ", ".join(f"{variant}: {action}" for variant, action in variant_actions.items()),
            f"; reason: {self.reason}" if self.reason else "",
        )
        unconfirmed_promotion: str | None = None  # a promotion this task's own call may not have made
        try:
            self.hook.stop_inference_experiment(request)
        except ExperimentConflict as err:
            self.took_effect_before(name, err, {lifecycle.STOPPING, *lifecycle.TERMINAL_STATUSES})
            unconfirmed_promotion = promoted
        if wait:
            target = request.get("DesiredState", lifecycle.COMPLETED)
            # The check below needs the ended experiment, so this rare wait stays in the worker.
            described = self.wait_for_statuses(
                name, {target}, fail_when_past_target=False, in_worker=unconfirmed_promotion is not None
            )
        else:
            described = self.hook.describe_inference_experiment(name)
        if unconfirmed_promotion is not None and described["Status"] in lifecycle.TERMINAL_STATUSES:
            self._check_promoted(described, unconfirmed_promotion)
        self.log.info("Inference experiment %r is %s", name, described["Status"])
        return actions.summarize(
            described, model_variant_actions=variant_actions, promoted_variant=promoted, stopped=True
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the deferred wait; the actions are rebuilt from the operator's arguments."""
        described = described_from_event(event)
        variant_actions = self._request(described, parse_bool("promote", self.promote))["ModelVariantActions"]
        self.log.info("Inference experiment %r is %s", described.get("Name"), described.get("Status"))
        return actions.summarize(
            described,
            model_variant_actions=variant_actions,
            promoted_variant=actions.promoted_variant(variant_actions),
            stopped=True,
        )

    def _request(self, described: dict[str, Any], promote: bool) -> dict[str, Any]:
        from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
        from airflow_provider_shadowtest.experiment import validate_stop_request

        request = actions.build_stop_request(
            described,
            promote=promote,
            model_variant_actions=self.model_variant_actions or None,
            desired_state=self.desired_state or lifecycle.COMPLETED,
            reason=self.reason or None,
        )
        if self.desired_model_variants and self.promote_with:
            raise ValueError("promote_with: give promote_with or desired_model_variants, not both")
        promote_with = self.promote_with or self.desired_model_variants or actions.PRODUCTION_SETTINGS
        desired = actions.promotion_model_variants(described, request["ModelVariantActions"], promote_with)
        if desired is not None:
            request["DesiredModelVariants"] = desired
        problems = validate_stop_request(request, path_style="snake")
        if problems:
            raise InvalidExperimentRequest(problems, what=f"stop of inference experiment {described['Name']!r}")
        return request

    def _already_ended(
        self, described: dict[str, Any], promoted: str | None, variant_actions: dict[str, str]
    ) -> dict[str, Any]:
        name, status = described["Name"], described["Status"]
        if promoted is not None:
            self._check_promoted(described, promoted)
        self.log.warning("Inference experiment %r is already %s: nothing to stop", name, status)
        return actions.summarize(
            described, model_variant_actions=variant_actions, promoted_variant=promoted, stopped=False
        )

    def _check_promoted(self, described: dict[str, Any], promoted: str) -> None:
        """Fail unless the ended experiment's endpoint serves ``promoted``'s model."""
        if not self._endpoint_serves(described, promoted):
            raise ExperimentStateError(
                described["Name"],
                described["Status"],
                f"it was stopped or ended without this task, and {promoted!r} was not promoted",
                described.get("StatusReason"),
            )

    def _endpoint_serves(self, described: dict[str, Any], variant: str) -> bool:
        """Whether the endpoint's production variant serves ``variant``'s model (a past promotion)."""
        model = actions.variant_model(described, variant)
        endpoint = (described.get("EndpointMetadata") or {}).get("EndpointName")
        if not model or not endpoint:
            return False
        return model in self.hook.endpoint_production_models(endpoint)
