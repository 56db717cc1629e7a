"""The shared rules: their verdicts at the edges, and the documents that state them."""

import re

import pytest

from thoughts_common import contract, documents, inputs


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x" * 250, None),
        ("é" * 250, None),
        ("x" * 251, "text is longer than 250 characters"),
        (None, "text is required"),
        (7, "text must be a string"),
        ("", "text must not be blank"),
        (" \n\t", "text must not be blank"),
        ("a\x00b", "text must not contain NUL characters"),
        ("a\ud800b", "text is not valid Unicode"),
    ],
)
def test_thought_problem(text, problem):
    assert contract.thought_problem(text) == problem
    if isinstance(text, str) and "\x00" not in text:
        # The documented pattern holds the blank rule; the length is the document's maxLength.
        assert bool(re.fullmatch(contract.THOUGHT_PATTERN, text)) == (problem != "text must not be blank")


@pytest.mark.parametrize(
    ("username", "problem"),
    [
        ("b" * 50, None),
        ("日本", None),
        ("Bruce Wayne", None),
        ("b" * 51, "username is longer than 50 characters"),
        ("", "username is required"),
        (None, "username is required"),
        ("a\x00b", "username must not contain NUL characters"),
        (" x", "username must not contain leading or trailing spaces or control characters"),
        ("a\u200bb", "username must not contain leading or trailing spaces or control characters"),
    ],
)
def test_username_problem(username, problem):
    assert contract.username_problem(username) == problem


@pytest.mark.parametrize(
    ("password", "problem"), [("p" * 256, None), ("p" * 257, "password is longer than 256 characters")]
)
def test_password_problem(password, problem):
    assert contract.password_problem(password) == problem


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [("after", "0", 0), ("after", str(2**31 - 1), 2**31 - 1), ("before", "1", 1), ("before", "0001", 1)],
)
def test_positions_in_range(name, raw, value):
    assert contract.position(raw, name) == value


@pytest.mark.parametrize(
    ("name", "raw"), [("after", "-1"), ("after", str(2**31)), ("before", "0"), ("before", "9" * 40), ("before", "")]
)
def test_positions_out_of_range(name, raw):
    low = 0 if name == "after" else 1
    with pytest.raises(inputs.InvalidInput, match=f"^{name} must be the id of a thought, from {low} to 2147483647$"):
        contract.position(raw, name)


def test_the_documents_state_the_contract():
    text = documents.thought_text()
    assert (text.max_length, text.pattern, text.required) == (250, contract.THOUGHT_PATTERN, True)
    assert documents.username().max_length == contract.USERNAME_MAX_LENGTH == 50
    assert documents.password().max_length == contract.PASSWORD_MAX_LENGTH
    assert documents.position_parameter("before", "x")["minimum"] == 1
    assert documents.id_parameter("path", "x")["maximum"] == contract.MAX_ID == 2**31 - 1
