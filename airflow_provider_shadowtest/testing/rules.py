"""The emulator's own lifecycle, update and stop rules, written from the AWS documentation.

Independent of the client (``airflow_provider_shadowtest.experiment``): a wrong rule there must
meet this emulator's answer, not its own echo. ``tests/testing/test_rules_vs_client.py`` lists
every difference between the two tables with its reason.

Sources (AWS, SageMaker):

- API reference, UpdateInferenceExperiment: "The status of the inference experiment has to be
  either Created, Running"; Schedule: "If the status ... is Created, then you can update both the
  start and end dates. If the status ... is Running, then you can update only the end date."
- Developer guide, "Edit a shadow test": before the test starts, the description, the shadow
  variant configuration, the start and end dates, and data capture may change; after it starts,
  "only the description, the traffic sampling percentage for the shadow variant, and the end date".
- Developer guide, "Start a shadow test early": a scheduled test starts before its start time;
  an end more than 30 days after the new start moves back to 30 days.
- API reference, StopInferenceExperiment: ModelVariantActions ``Promote`` ("Promote the shadow
  variant to a production variant"), ``Remove`` ("Delete the variant"), ``Retain`` ("Keep the
  variant as it is"); DesiredModelVariants: "one for each variant that you want to deploy after
  the inference experiment stops".
- Developer guide, "Complete a shadow test" / "Promote a shadow variant": promotion "removes your
  current production variant from production and replaces it with your shadow variant"; instance
  settings: the production variant's (recommended), the shadow variant's, or custom ones.
- API reference, DescribeInferenceExperiment: the statuses; "Cancelled - When you conclude your
  experiment early using the StopInferenceExperiment API ... it shows as cancelled"; variant
  status "Deleted ... can only happen after stopping the experiment".
- API reference, DeleteInferenceExperiment: deletes the metadata only.

Where AWS is silent the choice is stated next to the rule (``CHOSEN``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

# -- statuses (the service model's InferenceExperimentStatus and ModelVariantStatus enums) -------
CREATING: Final = "Creating"
CREATED: Final = "Created"
UPDATING: Final = "Updating"
STARTING: Final = "Starting"
RUNNING: Final = "Running"
STOPPING: Final = "Stopping"
COMPLETED: Final = "Completed"
CANCELLED: Final = "Cancelled"
STATUSES: Final = (CREATING, CREATED, UPDATING, STARTING, RUNNING, STOPPING, COMPLETED, CANCELLED)
TERMINAL: Final = frozenset({COMPLETED, CANCELLED})

VARIANT_CREATING: Final = "Creating"
VARIANT_UPDATING: Final = "Updating"
VARIANT_IN_SERVICE: Final = "InService"
VARIANT_DELETING: Final = "Deleting"
VARIANT_DELETED: Final = "Deleted"

PROMOTE: Final = "Promote"
REMOVE: Final = "Remove"
RETAIN: Final = "Retain"

#: CreateInferenceExperiment, Schedule: "If you don't specify this field, the experiment
#: automatically starts immediately upon creation and concludes after 7 days."
DEFAULT_DURATION: Final = dt.timedelta(days=7)
#: "Create a shadow test": "The default duration is 7 days and the maximum is 30 days."
MAX_DURATION: Final = dt.timedelta(days=30)

#: Which statuses allow each state-changing operation; every other status answers ConflictException.
OPERATION_STATUSES: Final[Mapping[str, frozenset[str]]] = {
    # API reference: "has to be either Created, Running".
    "UpdateInferenceExperiment": frozenset({CREATED, RUNNING}),
    # Guide "Start a shadow test early": starting is for a test waiting for its start time.
    "StartInferenceExperiment": frozenset({CREATED}),
    # Guide: "You can complete an in-progress test". CHOSEN: a scheduled (Created) test may be
    # stopped too (it then ends without having run); transitional and ended ones may not.
    "StopInferenceExperiment": frozenset({CREATED, RUNNING}),
    # AWS is silent. CHOSEN: not while SageMaker is changing the endpoint or mirroring traffic
    # (Creating, Updating, Starting, Running, Stopping): stop a running test first.
    "DeleteInferenceExperiment": frozenset({CREATED, COMPLETED, CANCELLED}),
}

# -- UpdateInferenceExperiment: which request members each status accepts ------------------------
#: Member paths of an update request, in this module's vocabulary.
START_TIME: Final = "Schedule.StartTime"
END_TIME: Final = "Schedule.EndTime"
DESCRIPTION: Final = "Description"
MODEL_VARIANTS: Final = "ModelVariants"
DATA_STORAGE: Final = "DataStorageConfig"
#: the shadow variant's name or the source variant (the "shadow variant configuration")
SHADOW_VARIANTS: Final = "ShadowModeConfig"
SAMPLING: Final = "ShadowModeConfig.ShadowModelVariants.SamplingPercentage"
UPDATE_MEMBERS: Final = (START_TIME, END_TIME, DESCRIPTION, MODEL_VARIANTS, DATA_STORAGE, SHADOW_VARIANTS, SAMPLING)

UPDATABLE: Final[Mapping[str, frozenset[str]]] = {
    # Guide "Edit a shadow test", before the start: description, shadow variant configuration
    # (name, sampling, instance type and count), start and end, data capture on or off.
    CREATED: frozenset(UPDATE_MEMBERS),
    # After the start: "only the description, the traffic sampling percentage ..., and the end
    # date"; the API reference: "If the status ... is Running, then you can update only the end
    # date". A StartTime in the request is refused even when it equals the current one (the
    # API names what may be *given*, not what may differ).
    RUNNING: frozenset({END_TIME, DESCRIPTION, SAMPLING}),
}


def update_members(current: Mapping[str, Any], request: Mapping[str, Any]) -> list[str]:
    """Return the members an update request touches, in :data:`UPDATE_MEMBERS` vocabulary.

    Presence counts, not difference (see :data:`UPDATABLE`), with one exception the API forces:
    ShadowModeConfig has required members, so a request that changes the sampling percentage
    must repeat the source and shadow names; repeating them unchanged touches only ``SAMPLING``.

    :param current: the experiment as DescribeInferenceExperiment shows it.
    """
    touched: list[str] = []
    schedule = request.get("Schedule") or {}
    for key, member in (("StartTime", START_TIME), ("EndTime", END_TIME)):
        if schedule.get(key) is not None:
            touched.append(member)
    for key, member in ((DESCRIPTION, DESCRIPTION), (MODEL_VARIANTS, MODEL_VARIANTS), (DATA_STORAGE, DATA_STORAGE)):
        if request.get(key) is not None:
            touched.append(member)
    new = request.get("ShadowModeConfig")
    if new is not None:
        old = current.get("ShadowModeConfig") or {}
        if _shadow_roles(new) != _shadow_roles(old):
            touched.append(SHADOW_VARIANTS)
        if _sampling(new) != _sampling(old) or _shadow_roles(new) == _shadow_roles(old):
            touched.append(SAMPLING)
    return touched


def _shadow_roles(config: Mapping[str, Any]) -> tuple[Any, ...]:
    shadows = config.get("ShadowModelVariants") or []
    return (config.get("SourceModelVariantName"), *(s.get("ShadowModelVariantName") for s in shadows))


def _sampling(config: Mapping[str, Any]) -> list[Any]:
    return [s.get("SamplingPercentage") for s in config.get("ShadowModelVariants") or []]


def update_refusals(status: str, touched: list[str]) -> list[str]:
    """Return the touched members the status refuses (all of them outside Created and Running)."""
    allowed = UPDATABLE.get(status, frozenset())
    return [member for member in touched if member not in allowed]


# -- StopInferenceExperiment ---------------------------------------------------------------------
#: (production action, shadow action) pairs SageMaker's documented semantics make possible.
#: CHOSEN (AWS is silent on combinations): a promotion replaces the production variant (guide),
#: so production must then be removed (given as Remove or left out); removing production without
#: a promotion would leave the endpoint with no production variant; only the shadow variant can
#: be promoted (API reference).
STOP_COMBINATIONS: Final[Mapping[tuple[str, str], str]] = {
    (RETAIN, REMOVE): "the shadow variant is removed; production serves as before",
    (RETAIN, RETAIN): "both stay: the endpoint keeps the shadow variant, traffic mirroring ends",
    (REMOVE, PROMOTE): "the shadow variant replaces the production variant (name, model)",
}

#: CHOSEN defaults for a variant left out of ModelVariantActions (the map may name one variant).
DEFAULT_SHADOW_ACTION: Final = REMOVE


def default_production_action(shadow_action: str) -> str:
    """The action of a production variant left out of ModelVariantActions (CHOSEN)."""
    return REMOVE if shadow_action == PROMOTE else RETAIN


def stop_problems(
    production: str, shadow: str, variants: Mapping[str, str], actions: Mapping[str, str], desired_names: list[str]
) -> list[tuple[str, str]]:
    """Return ``(field, message)`` for each stop-rule violation.

    :param production: the experiment's source (production) variant name.
    :param shadow: its shadow variant name.
    :param variants: model name by variant name, of the experiment's ModelVariants.
    :param actions: ModelVariantActions as given.
    :param desired_names: VariantName of each DesiredModelVariants entry.
    """
    problems: list[tuple[str, str]] = []
    for name in actions:
        if name not in variants:
            problems.append(
                (f"ModelVariantActions.{name}", f"'{name}' is not a variant of the experiment ({', '.join(variants)})")
            )
    shadow_action = actions.get(shadow, DEFAULT_SHADOW_ACTION)
    production_action = actions.get(production, default_production_action(shadow_action))
    if production_action == PROMOTE:
        problems.append((f"ModelVariantActions.{production}", "only the shadow variant can be promoted"))
    elif (production_action, shadow_action) not in STOP_COMBINATIONS:
        if shadow_action == PROMOTE:
            message = "a promoted shadow variant replaces the production variant: give Remove (or leave it out)"
        else:
            message = "the production variant can be removed only when the shadow variant is promoted"
        problems.append((f"ModelVariantActions.{production}", message))
    kept = {name for name, action in ((production, production_action), (shadow, shadow_action)) if action != REMOVE}
    for i, name in enumerate(desired_names):
        if name not in kept:
            problems.append(
                (
                    f"DesiredModelVariants[{i}].VariantName",
                    f"'{name}' is not deployed after the stop; DesiredModelVariants may name only "
                    f"variants that are promoted or retained ({', '.join(sorted(kept)) or 'none'})",
                )
            )
    return problems


def stop_state(desired_state: str | None) -> str:
    """The terminal status of an early stop: the DesiredState given, else Cancelled.

    DescribeInferenceExperiment: "Cancelled - When you conclude your experiment early using the
    StopInferenceExperiment API ... it shows as cancelled".
    """
    return desired_state or CANCELLED
