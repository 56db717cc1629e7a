import pytest

from thoughts_common import features, settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), (" ON ", True), ("yes", True), ("0", False), ("false", False), ("", False)],
)
def test_flag_values(value, expected):
    assert features.enabled("signup", {"FEATURE_SIGNUP": value}) is expected


def test_unset_flag_is_off():
    assert features.enabled("signup", {}) is False


def test_a_flag_that_is_not_a_boolean_is_an_error_not_off():
    with pytest.raises(settings.SettingError, match=r"^FEATURE_SIGNUP='maybe': Not a valid boolean"):
        features.enabled("signup", {"FEATURE_SIGNUP": "maybe"})


def test_any_feature_follows_the_flag_pattern():
    assert features.enabled("dark_mode", {"FEATURE_DARK_MODE": "on"}) is True
    with pytest.raises(settings.SettingError, match=r"^FEATURE_DARK_MODE="):
        features.enabled("dark_mode", {"FEATURE_DARK_MODE": "2"})
