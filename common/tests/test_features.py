import pytest

from thoughts_common import features


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        (" ON ", True),
        ("yes", True),
        ("0", False),
        ("false", False),
        ("", False),
        ("maybe", False),
    ],
)
def test_flag_values(value, expected):
    assert features.enabled("signup", {"FEATURE_SIGNUP": value}) is expected


def test_unset_flag_is_off():
    assert features.enabled("signup", {}) is False
