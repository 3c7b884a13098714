"""The emulator's rules (``testing/rules.py``, from the AWS docs) against the client's own.

The emulator must not echo the client: each rule is read from both sides, and every difference
must appear in ``EXPECTED_DIFFERENCES`` with its reason. A new, unexplained difference (or an
explained one that disappeared) fails this test with the whole table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from airflow_provider_shadowtest.experiment import actions, lifecycle
from airflow_provider_shadowtest.testing import rules

#: the client's update-field vocabulary for each emulator member
CLIENT_FIELD = {
    rules.START_TIME: "Schedule.StartTime",
    rules.END_TIME: "Schedule.EndTime",
    rules.DESCRIPTION: "Description",
    rules.MODEL_VARIANTS: "ModelVariants",
    rules.DATA_STORAGE: "DataStorageConfig",
    rules.SHADOW_VARIANTS: "ShadowModeConfig",
    rules.SAMPLING: "ShadowModeConfig.SamplingPercentage",
}
OPERATIONS = (
    "UpdateInferenceExperiment",
    "StartInferenceExperiment",
    "StopInferenceExperiment",
    "DeleteInferenceExperiment",
)
_PROMOTE_ONLY_BY_REMOVING = (
    "AWS guide 'Promote a shadow variant': promotion removes the production variant; the API is "
    "silent on Retain+Promote, the emulator refuses it (ValidationException); the client passes "
    "explicit model_variant_actions through unchecked"
)
_NO_PRODUCTION_LEFT = (
    "removing production without promoting the shadow leaves the endpoint without a production "
    "variant: the emulator refuses it; the client passes explicit actions through unchecked"
)
_ONLY_SHADOW_PROMOTES = (
    "API reference StopInferenceExperiment: 'Promote the shadow variant to a production variant'; "
    "the client does not check which variant an explicit Promote names"
)

#: rule id -> why the emulator and the client differ there
EXPECTED_DIFFERENCES: dict[str, str] = {
    "update.running.present-but-unchanged StartTime": (
        "API reference UpdateInferenceExperiment: in Running 'you can update only the end date'; "
        "the emulator refuses a StartTime that is given, even unchanged; the client's "
        "changed_update_fields ignores unchanged values (its operator then leaves them out, "
        "so it never sends one)"
    ),
    "stop.actions Promote/Promote": _ONLY_SHADOW_PROMOTES,
    "stop.actions Promote/Remove": _ONLY_SHADOW_PROMOTES,
    "stop.actions Promote/Retain": _ONLY_SHADOW_PROMOTES,
    "stop.actions Remove/Remove": _NO_PRODUCTION_LEFT,
    "stop.actions Remove/Retain": _NO_PRODUCTION_LEFT,
    "stop.actions Retain/Promote": _PROMOTE_ONLY_BY_REMOVING,
}


def _described() -> dict[str, Any]:
    start = dt.datetime(2030, 1, 6, 12, tzinfo=dt.timezone.utc)
    return {
        "Name": "exp",
        "Status": "Running",
        "Schedule": {"StartTime": start, "EndTime": start + dt.timedelta(days=1)},
        "ModelVariants": [
            {"ModelName": "prod-model", "VariantName": "prod"},
            {"ModelName": "shadow-model", "VariantName": "cand"},
        ],
        "ShadowModeConfig": {
            "SourceModelVariantName": "prod",
            "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 50}],
        },
    }


def _client_accepts_stop(described: dict[str, Any], variant_actions: dict[str, str]) -> bool:
    try:
        actions.build_stop_request(described, model_variant_actions=variant_actions)
    except ValueError:
        return False
    return True


def _emulator_accepts_stop(variant_actions: dict[str, str]) -> bool:
    variants = {"prod": "prod-model", "cand": "shadow-model"}
    return not rules.stop_problems("prod", "cand", variants, variant_actions, [])


def rule_table() -> dict[str, tuple[Any, Any]]:
    """Every comparable rule: ``{rule id: (client's answer, emulator's answer)}``."""
    table: dict[str, tuple[Any, Any]] = {
        "statuses": (sorted(lifecycle.ALL_STATUSES), sorted(rules.STATUSES)),
        "terminal statuses": (sorted(lifecycle.TERMINAL_STATUSES), sorted(rules.TERMINAL)),
        "default duration": (lifecycle.DEFAULT_DURATION, rules.DEFAULT_DURATION),
        "max duration": (lifecycle.MAX_DURATION, rules.MAX_DURATION),
        "variant statuses": (
            sorted(
                {
                    lifecycle.VARIANT_CREATING,
                    lifecycle.VARIANT_UPDATING,
                    lifecycle.VARIANT_IN_SERVICE,
                    lifecycle.VARIANT_DELETING,
                    lifecycle.VARIANT_DELETED,
                }
            ),
            sorted(
                {
                    rules.VARIANT_CREATING,
                    rules.VARIANT_UPDATING,
                    rules.VARIANT_IN_SERVICE,
                    rules.VARIANT_DELETING,
                    rules.VARIANT_DELETED,
                }
            ),
        ),
    }
    # which statuses allow an update at all, and which members each status accepts
    for status in rules.STATUSES:
        client = not lifecycle.update_violations(status, ["Description"])
        table[f"update.allowed in {status}"] = (client, status in rules.OPERATION_STATUSES["UpdateInferenceExperiment"])
        for member, field in CLIENT_FIELD.items():
            table[f"update.{status}.{member}"] = (
                not lifecycle.update_violations(status, [field]),
                not rules.update_refusals(status, [member]),
            )
    # transitional statuses: the client expects ConflictException for every operation but Describe
    for operation, status in itertools.product(OPERATIONS, sorted(lifecycle.TRANSITIONAL_STATUSES)):
        table[f"{operation} in {status}"] = (False, status in rules.OPERATION_STATUSES[operation])
    # what counts as touching a member: an unchanged StartTime in a Running update
    described = _described()
    request = {"Name": "exp", "Schedule": {"StartTime": described["Schedule"]["StartTime"]}}
    client_refuses = bool(lifecycle.update_violations("Running", lifecycle.changed_update_fields(described, request)))
    emulator_refuses = bool(rules.update_refusals("Running", rules.update_members(described, request)))
    table["update.running.present-but-unchanged StartTime"] = (client_refuses, emulator_refuses)
    # a sampling change re-sending the whole ShadowModeConfig (what the client's operator sends)
    sampling = actions.build_update_request(described, sampling_percent=100)
    table["update.running.sampling change"] = (
        not lifecycle.update_violations("Running", lifecycle.changed_update_fields(described, sampling)),
        not rules.update_refusals("Running", rules.update_members(described, sampling)),
    )
    # stop: the two requests the client builds itself, then every explicit combination
    for promote in (True, False):
        built = actions.model_variant_actions_for(described, promote=promote, model_variant_actions=None)
        table[f"stop.client-built promote={promote}"] = (True, _emulator_accepts_stop(built))
    for production, shadow in itertools.product((rules.PROMOTE, rules.REMOVE, rules.RETAIN), repeat=2):
        pair = {"prod": production, "cand": shadow}
        table[f"stop.actions {production}/{shadow}"] = (
            _client_accepts_stop(described, pair),
            _emulator_accepts_stop(pair),
        )
    return table


def test_every_difference_between_the_emulator_and_the_client_is_explained() -> None:
    table = rule_table()
    differences = {rule: answers for rule, answers in table.items() if answers[0] != answers[1]}
    report = "\n".join(
        f"  {rule}: client={client!r} emulator={emulator!r} -- {EXPECTED_DIFFERENCES.get(rule, 'UNEXPLAINED')}"
        for rule, (client, emulator) in sorted(differences.items())
    )
    assert set(differences) == set(EXPECTED_DIFFERENCES), f"rule differences:\n{report}"


def test_the_table_covers_the_rules_it_claims() -> None:
    table = rule_table()
    assert len(table) >= 5 + 8 * 8 + 4 * 4 + 2 + 2 + 9
    assert set(EXPECTED_DIFFERENCES) <= set(table)
    assert all(len(reason) > 40 for reason in EXPECTED_DIFFERENCES.values())


def test_the_emulator_imports_no_client_rules() -> None:
    """Only the service model (botocore's data) may be shared with the client's core."""
    import ast
    from pathlib import Path

    import airflow_provider_shadowtest.testing as package

    allowed = {"airflow_provider_shadowtest.experiment.service_model"}
    offenders = []
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "airflow_provider_shadowtest.experiment":
                modules = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{path.name}: {m}"
                for m in modules
                if m.startswith("airflow_provider_shadowtest.experiment") and m not in allowed
            ]
    assert offenders == []
