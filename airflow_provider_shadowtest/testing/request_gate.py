"""The emulator's front door: a request moto cannot read, or that breaks the model, is refused here.

:func:`guarded_dispatch` wraps ``_dispatch`` of moto's SageMaker and CloudWatch responses, so
every request passes these checks before moto reads it and before any operation runs (a
refused request changes no state, is counted as a request and as *rejected*, and gets no
injected fault):

=========================================  ======  ==========================================
bad input                                  status  error code (``__type``)
=========================================  ======  ==========================================
body above ``max_request_bytes``           413     ``RequestEntityTooLarge``
content type of no protocol of the service 400     ``SerializationException``
operation not in the service model         400     ``UnknownOperationException``
not UTF-8, not JSON, not a JSON object,    400     ``SerializationException``
a member of the wrong JSON type
missing required member, length, pattern,  400     SageMaker ``ValidationException``,
enum, range or list-size violation                 CloudWatch ``ValidationError``
=========================================  ======  ==========================================

In the query protocol (form-encoded CloudWatch requests) the common errors of query APIs take
their place: ``InvalidParameterValue`` for a value that cannot be read, ``InvalidAction`` for
an unknown action. Errors are serialized by moto in the request's protocol (JSON 1.1 for SageMaker; JSON 1.0 with
the query-compatible ``x-amzn-query-error`` header, or query XML, for CloudWatch). A request that
passes but makes moto fail unexpectedly is answered 500 ``InternalFailure`` as JSON, never as an
HTML page; a modeled operation moto does not implement (such as SageMaker ``UpdateEndpoint``)
is answered 501 ``NotImplemented``, which botocore does not retry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import warnings
import zlib
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.model_checks import SERIALIZATION, check_request, describe
from airflow_provider_shadowtest.testing.plain_params import plain
from airflow_provider_shadowtest.testing.settings import current_settings

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

#: environ key the server sets when it refused to read a body (its declared length)
OVERSIZE_ENVIRON_KEY: Final = "shadowtest.oversize_bytes"

#: attribute marking what this package installed (install is idempotent)
MARK: Final = "__shadowtest__"

_VALIDATION_CODES: Final = {"sagemaker": "ValidationException", "cloudwatch": "ValidationError"}
_JSON_PROTOCOLS: Final = frozenset({"json", "rest-json"})
#: the common errors of query-protocol APIs (CloudWatch's "Common Errors" page)
_QUERY_CODES: Final = {"SerializationException": "InvalidParameterValue", "UnknownOperationException": "InvalidAction"}


class Rejection(Exception):
    """A request refused before moto runs it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def operation_of(request: Any) -> str:
    """The operation a request names: ``X-Amz-Target`` or the query ``Action``; ``Unknown`` if none."""
    target = request.headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1] or "Unknown"
    action = request.args.get("Action")
    if not action and _declared_size(request) <= current_settings().max_request_bytes:
        action = request.form.get("Action")
    return str(action or "Unknown")


def _declared_size(request: Any) -> int:
    oversize = request.environ.get(OVERSIZE_ENVIRON_KEY)
    if oversize is not None:
        return int(oversize)
    return int(request.content_length or 0)


def inspect(service_name: str, request: Any, operation: str) -> tuple[str, Rejection | None]:
    """Return ``(protocol, rejection)``: the checks that need no moto state."""
    from moto.core.request import determine_request_protocol
    from moto.core.utils import get_service_model

    service_model = get_service_model(service_name)
    protocol = str(service_model.protocol)
    limit = current_settings().max_request_bytes
    size = _declared_size(request)
    if size > limit:
        message = (
            f"Request body of {size} bytes exceeds the emulator's limit of {limit} bytes "
            "(setting max_request_bytes); it was not read."
        )
        return _json_protocol(service_model), Rejection(413, "RequestEntityTooLarge", message)
    try:
        protocol = determine_request_protocol(service_model, request.content_type)
    except NotImplementedError:
        supported = ", ".join(service_model.metadata.get("protocols", [protocol]))
        content_type = request.content_type or "request without content type"
        message = f"Cannot read a {content_type}: {service_name} speaks {supported} (the emulator: JSON and query)."
        return _json_protocol(service_model), Rejection(400, "SerializationException", message)
    if protocol not in ("json", "query", "rest-json"):
        message = f"The emulator does not read the {protocol} protocol; send JSON (application/x-amz-json-1.0)."
        return _json_protocol(service_model), Rejection(400, "SerializationException", message)
    if operation not in service_model.operation_names:
        message = f"{operation} is not an operation of {service_model.service_id}."
        return protocol, Rejection(400, "UnknownOperationException", message)
    raw, problem = _body(request, limit)
    if problem is not None:
        return protocol, problem
    if protocol in _JSON_PROTOCOLS:
        shape = service_model.operation_model(operation).input_shape
        return protocol, _check_json_body(service_name, shape, raw)
    return protocol, None


def _body(request: Any, limit: int) -> tuple[bytes, Rejection | None]:
    """The request body, gunzipped when botocore compressed it (PutMetricData does above 10 KB).

    The decompressed body is handed on to moto in place of the compressed one.
    """
    raw: bytes = request.get_data()
    if (request.content_encoding or "").lower() != "gzip":
        return raw, None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        return raw, Rejection(400, "SerializationException", f"Cannot read the gzip request body: {exc}.")
    if len(data) > limit or inflater.unconsumed_tail:
        message = f"The gzip request body inflates to more than the emulator's limit of {limit} bytes."
        return raw, Rejection(413, "RequestEntityTooLarge", message)
    request._cached_data = data
    request.environ.pop("HTTP_CONTENT_ENCODING", None)
    return data, None


def _json_protocol(service_model: Any) -> str:
    protocols = service_model.metadata.get("protocols", [service_model.protocol])
    return "json" if "json" in protocols else str(service_model.protocol)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_json_body(service_name: str, shape: Any, raw: bytes) -> Rejection | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            400,
            "SerializationException",
            f"Cannot read the request body: not UTF-8 ({exc.reason} at byte {exc.start}).",
        )
    if not text.strip(" \t\r\n"):  # JSON whitespace only
        body: Any = {}
    else:
        try:
            body = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            return Rejection(400, "SerializationException", f"Cannot read the request body as JSON: {exc}.")
    return _model_rejection(service_name, shape, body)


def _model_rejection(service_name: str, shape: Any, body: Any) -> Rejection | None:
    problems = check_request(shape, body)
    unreadable = [p for p in problems if p.kind == SERIALIZATION]
    if unreadable:
        return Rejection(400, "SerializationException", unreadable[0].message)
    if problems:
        return Rejection(400, _VALIDATION_CODES.get(service_name, "ValidationException"), describe(problems))
    return None


def error_response(
    service_name: str, operation: str, protocol: str, rejection: Rejection
) -> tuple[int, dict[str, str], Any]:
    """Serialize ``rejection`` as moto serializes the service's errors in ``protocol``."""
    from botocore.model import OperationNotFoundError
    from moto.core.model import OperationModel
    from moto.core.responses import ActionContext, ActionResult, BaseResponse
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    service_model = get_service_model(service_name)
    try:
        operation_model = service_model.operation_model(operation)
    except OperationNotFoundError:
        operation_model = OperationModel({}, service_model)
    serializer = get_serializer_class(service_model.service_name, protocol)
    error = _error_class()(rejection.code, rejection.message)
    context = ActionContext(service_model, operation_model, serializer, BaseResponse())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns that our codes are not modeled errors
        _, headers, body = ActionResult(error).execute_result(context)
    if protocol in _JSON_PROTOCOLS:
        with contextlib.suppress(ValueError, TypeError):
            document = json.loads(body)
            if isinstance(document, dict):
                document["message"] = rejection.message  # AWS JSON errors carry ``message``
                body = json.dumps(document)
    headers = {str(k): str(v) for k, v in headers.items() if str(k).lower() != "status"}
    headers["status"] = str(rejection.status)
    return rejection.status, headers, body


@functools.cache
def _error_class() -> type[Exception]:
    """A moto ``ServiceException`` defined outside moto: moto then looks the code up in the request's service only."""
    from moto.core.exceptions import ServiceException

    return type("GateError", (ServiceException,), {"__module__": __name__})


def guarded_dispatch(service_name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``BaseResponse._dispatch``: refuse what cannot be read or breaks the model, before moto."""

    def _dispatch(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> Any:
        operation = operation_of(request)
        protocol, rejection = inspect(service_name, request, operation)
        if rejection is None:
            try:
                self.setup_class(request, full_url, headers)
            except Exception as exc:  # moto could not read what the checks let through
                rejection = Rejection(400, "SerializationException", f"Cannot read the request: {exc}.")
        if rejection is None and protocol == "query":
            shape = _input_shape(service_name, operation)
            rejection = _model_rejection(service_name, shape, plain(getattr(self, "params", {})))
        if rejection is not None:
            if protocol == "query":  # query-protocol services name these two differently
                code = _QUERY_CODES.get(rejection.code, rejection.code)
                rejection = Rejection(rejection.status, code, rejection.message)
            COUNTERS.count_request(operation)
            COUNTERS.count_rejected(operation)
            return error_response(service_name, operation, protocol, rejection)
        try:
            return self.call_action()
        except NotImplementedError:
            # a modeled operation moto lacks: a clear 501 (botocore does not retry it), not an HTML 500
            message = f"The emulator does not implement {operation} (moto has no such operation)."
            return error_response(service_name, operation, protocol, Rejection(501, "NotImplemented", message))

    setattr(_dispatch, MARK, True)
    _dispatch.__wrapped__ = original  # type: ignore[attr-defined]
    return _dispatch


def _input_shape(service_name: str, operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model(service_name).operation_model(operation).input_shape
