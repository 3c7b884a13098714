"""AddTags, ListTags and DeleteTags on inference-experiment ARNs (moto knows no such resource type).

Other ARNs go to moto's own operations unchanged. Rules from the AWS docs: AddTags
"Adds or overwrites one or more tags for the specified SageMaker resource", at most 50 tags per
resource (SageMaker's Tag quotas, the service model's ``TagList`` max 50), keys unique, and
keys starting with ``aws:`` reserved for AWS ("Tagging your AWS resources").
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError

from airflow_provider_shadowtest.testing.store import experiments, lock_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.testing.store import Experiment

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
_RESOURCE = ":inference-experiment/"
#: attribute marking the wrappers this module installed
MARK = "__shadowtest_tags__"


def tag_problems(tags: list[Any], field: str) -> list[tuple[str, str]]:
    """Return ``(field, message)`` for reserved or repeated keys and more than 50 tags."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, tag in enumerate(tags):
        key = tag.get("Key") if isinstance(tag, dict) else None
        if not isinstance(key, str):
            continue
        if key.lower().startswith(RESERVED_PREFIX):
            problems.append((f"{field}[{i}].Key", f"tag keys starting with '{RESERVED_PREFIX}' are reserved by AWS"))
        if key in seen:
            problems.append((f"{field}[{i}].Key", f"duplicate tag key '{key}'"))
        seen.add(key)
    if len(tags) > MAX_TAGS:
        problems.append((field, f"a resource can have at most {MAX_TAGS} tags"))
    return problems


def _experiment(backend: Any, arn: str) -> Experiment:
    for exp in experiments(backend).values():
        if exp.arn == arn:
            return exp
    raise ResourceNotFound(message=f"Resource {arn} does not exist.")


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        details = "; ".join(f"{path}: {message}" for path, message in problems)
        raise ValidationError(message=f"{len(problems)} validation error(s) detected: {details}")


def add_tags(backend: Any, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add or overwrite tags; return the tags given (as SageMaker's AddTags answers)."""
    _raise(tag_problems(tags, "Tags"))
    with lock_of(backend):
        exp = _experiment(backend, arn)
        merged = {t["Key"]: t.get("Value", "") for t in exp.tags}
        merged.update({t["Key"]: t.get("Value", "") for t in tags})
        if len(merged) > MAX_TAGS:
            _raise([("Tags", f"a resource can have at most {MAX_TAGS} tags; this would make {len(merged)}")])
        exp.tags = [{"Key": k, "Value": v} for k, v in merged.items()]
    return [dict(t) for t in tags]


def list_tags(backend: Any, arn: str, max_results: int | None, next_token: str | None) -> dict[str, Any]:
    """One page of the experiment's tags."""
    offset = 0
    if next_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            _raise([("NextToken", "invalid pagination token")])
    size = max_results or MAX_TAGS
    with lock_of(backend):
        tags = [dict(t) for t in _experiment(backend, arn).tags]
    out: dict[str, Any] = {"Tags": tags[offset : offset + size]}
    if offset + size < len(tags):
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
    return out


def delete_tags(backend: Any, arn: str, keys: list[str]) -> None:
    with lock_of(backend):
        exp = _experiment(backend, arn)
        exp.tags = [t for t in exp.tags if t["Key"] not in set(keys)]


def _is_experiment(arn: Any) -> bool:
    return isinstance(arn, str) and _RESOURCE in arn


def wrap_add_tags(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        arn = self._get_param("ResourceArn")
        if not _is_experiment(arn):
            return original(self)
        return ActionResult({"Tags": add_tags(self.sagemaker_backend, arn, list(self._get_param("Tags") or []))})

    setattr(method, MARK, True)
    return method


def wrap_list_tags(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        arn = self._get_param("ResourceArn")
        if not _is_experiment(arn):
            return original(self)
        page = list_tags(self.sagemaker_backend, arn, self._get_param("MaxResults"), self._get_param("NextToken"))
        return ActionResult(page)

    setattr(method, MARK, True)
    return method


def wrap_delete_tags(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        arn = self._get_param("ResourceArn")
        if not _is_experiment(arn):
            return original(self)
        delete_tags(self.sagemaker_backend, arn, list(self._get_param("TagKeys") or []))
        return EmptyResult()

    setattr(method, MARK, True)
    return method
