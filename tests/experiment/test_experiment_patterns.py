"""The service model's Java patterns behave in Python as they do in the (Java) service."""

from __future__ import annotations

import warnings

import botocore.loaders
import pytest

from airflow_provider_shadowtest.experiment.patterns import JavaPattern
from airflow_provider_shadowtest.experiment.service_model import input_shape, instance_types

TAG = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"


def test_every_pattern_of_the_sagemaker_model_translates() -> None:
    shapes = botocore.loaders.create_loader().load_service_model("sagemaker", "service-2")["shapes"]
    sources = sorted({s["pattern"] for s in shapes.values() if "pattern" in s})
    translated: dict[str, JavaPattern] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. FutureWarning "possible nested set"
        for source in sources:
            pattern = JavaPattern(source)
            # an ASCII and a non-ASCII value: both the ASCII and the full Unicode ranges get built
            assert isinstance(pattern.fullmatch("x"), bool)
            assert isinstance(pattern.fullmatch("é"), bool)
            translated[source] = pattern
    assert len(translated) > 100
    name = translated[shapes["InferenceExperimentName"]["pattern"]]
    assert name.fullmatch("x")
    assert name.fullmatch("a-b")
    assert not name.fullmatch("-a")
    assert not name.fullmatch("é")
    tag = translated[shapes["TagValue"]["pattern"]]
    assert tag.fullmatch("é")
    assert tag.fullmatch("")
    assert not tag.fullmatch("\n")


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        ("team", True),
        ("cost center: 42 / a=b+c-d@e_f.g", True),
        ("équipe données", True),
        ("日本語", True),
        ("٣٤", True),  # Arabic-Indic digits are \p{N}
        ("\u00a0", True),  # no-break space is \p{Z}
        ("team!", False),
        ("a€", False),  # a currency symbol is \p{S}
        ("tab\there", False),  # a tab is a control character, not \p{Z}
        ("emoji 😀", False),
    ],
)
def test_unicode_property_classes(value: str, matches: bool) -> None:
    assert JavaPattern(TAG).fullmatch(value) is matches


def test_whole_value_must_match() -> None:
    name = JavaPattern("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}")
    assert name.fullmatch("shadow-test-1")
    assert not name.fullmatch("shadow-test-1-")
    assert not name.fullmatch("ok but with spaces")


def test_dot_stops_at_every_java_line_terminator() -> None:
    dot = JavaPattern(".*")
    assert dot.fullmatch("one line")
    for brk in ("\n", "\r", "\u0085", "\u2028", "\u2029"):
        assert not dot.fullmatch(f"a{brk}b")


def test_backslash_d_is_ascii_as_in_java() -> None:
    role = JavaPattern(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
    assert role.fullmatch("arn:aws:iam::123456789012:role/x")
    assert not role.fullmatch("arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x")


def test_surrogate_pairs_and_posix_classes() -> None:
    xml = JavaPattern(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*")
    assert xml.fullmatch("text 😀\t")
    assert not xml.fullmatch("bell\x07")
    assert JavaPattern(r"[\p{Alnum}\-]+").fullmatch("us-east-1")
    assert not JavaPattern(r"[\p{Alnum}\-]+").fullmatch("é")
    assert JavaPattern(r"[^\P{L}]+").fullmatch("éa")


def test_constraints_are_read_from_the_model() -> None:
    create = input_shape("CreateInferenceExperiment")
    assert create.required == ("Name", "Type", "RoleArn", "EndpointName", "ModelVariants", "ShadowModeConfig")
    assert create.members["Name"].max == 120
    assert len(instance_types()) > 200
    assert "ml.m5.xlarge" in instance_types()
