"""The package's exception hierarchy: every error names the field or the AWS error code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class ShadowTestError(Exception):
    """Base class of every error raised by airflow-provider-shadowtest."""


class InvalidExperimentRequest(ShadowTestError, ValueError):
    """A request failed validation; nothing was sent to AWS.

    :param errors: every problem found, as ``(field_path, message)`` pairs.
    """

    def __init__(self, errors: Iterable[tuple[str, str]], *, what: str = "inference experiment request"):
        self.errors: list[tuple[str, str]] = list(errors)
        self.what = what
        lines = "\n".join(f"  - {path}: {message}" for path, message in self.errors)
        count = len(self.errors)
        super().__init__(f"Invalid {what} ({count} problem{'s' if count != 1 else ''}):\n{lines}")


class InferenceExperimentApiError(ShadowTestError):
    """AWS answered with an error; the code, message and operation are kept.

    :param code: the AWS error code, e.g. ``ConflictException``.
    :param message: AWS's message, unchanged.
    :param operation: the API operation, e.g. ``StartInferenceExperiment``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        operation: str = "",
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.operation = operation
        self.http_status = http_status
        self.request_id = request_id
        where = f" during {operation}" if operation else ""
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"AWS error {code}{where}: {message}{rid}")

    @classmethod
    def from_response(cls, response: Mapping[str, Any], operation: str = "") -> InferenceExperimentApiError:
        """Build from a botocore error response (``ClientError.response``)."""
        error = response.get("Error", {}) or {}
        meta = response.get("ResponseMetadata", {}) or {}
        code = str(error.get("Code", "Unknown"))
        kind = _BY_CODE.get(code, cls)
        return kind(
            code,
            str(error.get("Message", "")),
            operation=operation,
            http_status=meta.get("HTTPStatusCode"),
            request_id=meta.get("RequestId"),
        )


class ExperimentNotFound(InferenceExperimentApiError):
    """The experiment (or the endpoint it names) does not exist."""


class ExperimentConflict(InferenceExperimentApiError):
    """The experiment's current status forbids the operation."""


class ExperimentAlreadyExists(InferenceExperimentApiError):
    """A resource with this name exists, or the endpoint already runs an experiment."""


_BY_CODE: dict[str, type[InferenceExperimentApiError]] = {
    "ResourceNotFound": ExperimentNotFound,
    "ResourceNotFoundException": ExperimentNotFound,
    "ConflictException": ExperimentConflict,
    "ResourceInUse": ExperimentAlreadyExists,
    "ResourceInUseException": ExperimentAlreadyExists,
}


class ExperimentStateError(ShadowTestError):
    """The experiment is in (or reached) a status from which the awaited one cannot follow."""

    def __init__(self, name: str, status: str, message: str, status_reason: str | None = None) -> None:
        self.name = name
        self.status = status
        self.status_reason = status_reason
        reason = f" StatusReason: {status_reason}" if status_reason else ""
        super().__init__(f"Inference experiment {name!r} is {status}: {message}.{reason}")


class ExperimentConfigMismatch(ShadowTestError):
    """An experiment with this name exists with a different configuration."""

    def __init__(self, name: str, differences: Iterable[str]) -> None:
        self.name = name
        self.differences = list(differences)
        lines = "\n".join(f"  - {d}" for d in self.differences)
        super().__init__(
            f"Inference experiment {name!r} already exists with a different configuration:\n{lines}\n"
            "Use another name, delete the existing experiment, or set if_exists='fail' to never reuse."
        )


class PreflightCheckFailed(ShadowTestError):
    """The endpoint cannot host the shadow test now; nothing was created.

    :param endpoint_name: the endpoint checked.
    :param problems: ``(rule, message)`` for each failed rule (see
        :mod:`airflow_provider_shadowtest.experiment.preflight`).
    """

    def __init__(self, endpoint_name: str, experiment_name: str, problems: Iterable[tuple[str, str]]) -> None:
        self.endpoint_name = endpoint_name
        self.experiment_name = experiment_name
        self.problems = list(problems)
        lines = "\n".join(f"  - [{rule}] {message}" for rule, message in self.problems)
        super().__init__(
            f"Pre-flight check failed: endpoint {endpoint_name!r} cannot host shadow test {experiment_name!r} "
            f"now; nothing was created:\n{lines}"
        )


class WaitTimeout(ShadowTestError):
    """Waiting for a status took longer than the timeout."""
