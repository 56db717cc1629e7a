"""The one reader of environment variables: its rules for booleans, numbers, choices and secrets."""

import pytest

from thoughts_common import settings
from thoughts_common.settings import SettingError, get, secret


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " on "])
def test_true(value):
    assert get("DJANGO_DEBUG", {"DJANGO_DEBUG": value}) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off"])
def test_false(value):
    assert get("METRICS_ENABLED", {"METRICS_ENABLED": value}) is False


@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "tru"])
def test_anything_else_is_refused_never_read_as_false(value):
    with pytest.raises(SettingError, match=f"^DJANGO_DEBUG='{value}': Not a valid boolean"):
        get("DJANGO_DEBUG", {"DJANGO_DEBUG": value})


@pytest.mark.parametrize("environ", [{}, {"METRICS_ENABLED": ""}, {"METRICS_ENABLED": "  "}])
def test_unset_or_blank_is_the_declared_default(environ):
    assert get("METRICS_ENABLED", environ) is True
    assert get("DJANGO_DEBUG", {"DJANGO_DEBUG": environ.get("METRICS_ENABLED", "")}) is False


def test_numbers_are_parsed_and_kept_in_range():
    assert get("DATABASE_POOL_SIZE", {"DATABASE_POOL_SIZE": " 7 "}) == 7
    assert get("DATABASE_POOL_WAIT_SECONDS", {"DATABASE_POOL_WAIT_SECONDS": "0.25"}) == 0.25
    assert get("DATABASE_POOL_WAIT_SECONDS", {}) == 0.5
    with pytest.raises(SettingError, match=r"^DATABASE_POOL_SIZE='four': Not a valid integer\.$"):
        get("DATABASE_POOL_SIZE", {"DATABASE_POOL_SIZE": "four"})
    with pytest.raises(SettingError, match=r"^DATABASE_POOL_SIZE='0': Must be greater than or equal to 1\.$"):
        get("DATABASE_POOL_SIZE", {"DATABASE_POOL_SIZE": "0"})
    with pytest.raises(SettingError, match=r"^SYSLOG_PORT='70000': .*less than or equal to 65535"):
        get("SYSLOG_PORT", {"SYSLOG_PORT": "70000"})
    with pytest.raises(SettingError, match=r"^DATABASE_LOCK_TIMEOUT_SECONDS='-1': "):
        get("DATABASE_LOCK_TIMEOUT_SECONDS", {"DATABASE_LOCK_TIMEOUT_SECONDS": "-1"})


def test_choices_in_any_case_and_unknown_ones_refused():
    assert get("LOG_LEVEL", {"LOG_LEVEL": "debug"}) == "DEBUG"
    assert get("LOG_LEVEL", {}) == "INFO"
    with pytest.raises(SettingError, match=r"^LOG_LEVEL='loud': Must be one of: DEBUG, INFO"):
        get("LOG_LEVEL", {"LOG_LEVEL": "loud"})


def test_lists_drop_blanks_and_spaces():
    assert get("DJANGO_ALLOWED_HOSTS", {"DJANGO_ALLOWED_HOSTS": " a.example , ,b.example"}) == [
        "a.example",
        "b.example",
    ]
    assert get("DJANGO_CSRF_TRUSTED_ORIGINS", {}) == []


def test_undeclared_names_are_a_programming_error():
    with pytest.raises(KeyError, match="NOT_A_SETTING is not a declared setting"):
        get("NOT_A_SETTING", {})


def test_secret_from_the_variable_or_the_file(tmp_path):
    path = tmp_path / "password"
    path.write_text("s3cr#t pw\n\n")
    assert secret("DATABASE_PASSWORD", {}) is None
    assert secret("DATABASE_PASSWORD", {"DATABASE_PASSWORD": "plain"}) == "plain"
    # The trailing newline(s) an editor adds are not part of the secret; inner spaces are.
    assert secret("DATABASE_PASSWORD", {"DATABASE_PASSWORD_FILE": str(path)}) == "s3cr#t pw"
    assert get("DATABASE_PASSWORD", {"DATABASE_PASSWORD_FILE": str(path)}) == "s3cr#t pw"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"DATABASE_PASSWORD": "a", "DATABASE_PASSWORD_FILE": "/x"},
            "DATABASE_PASSWORD and DATABASE_PASSWORD_FILE are both set",
        ),
        ({"DATABASE_PASSWORD": ""}, "DATABASE_PASSWORD is set but empty"),
        ({"DATABASE_PASSWORD_FILE": " "}, "DATABASE_PASSWORD_FILE is empty"),
        (
            {"DATABASE_PASSWORD_FILE": "{tmp}/absent"},
            "DATABASE_PASSWORD_FILE={tmp}/absent cannot be read: No such file",
        ),
        ({"DATABASE_PASSWORD_FILE": "{tmp}"}, "DATABASE_PASSWORD_FILE={tmp} cannot be read: Is a directory"),
        ({"DATABASE_PASSWORD_FILE": "{tmp}/blank"}, "DATABASE_PASSWORD_FILE={tmp}/blank is empty"),
    ],
)
def test_secret_mistakes_name_the_variable(tmp_path, environ, message):
    (tmp_path / "blank").write_text("\n")
    environ = {name: value.format(tmp=tmp_path) for name, value in environ.items()}
    with pytest.raises(SettingError, match="^" + message.format(tmp=tmp_path)):
        secret("DATABASE_PASSWORD", environ)


def test_required_secret_says_how_to_give_it():
    with pytest.raises(SettingError, match=r"^set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE; see the README"):
        settings.required_secret("DJANGO_SECRET_KEY", "; see the README", {})


def test_check_reads_every_setting_of_a_service_and_stops_at_a_wrong_one():
    users = settings.check(settings.USERS, {})
    assert users["LOGIN_THROTTLE_WINDOW_SECONDS"] == 3600
    assert "DJANGO_DEBUG" not in users and "DATABASE_URL" in users
    with pytest.raises(SettingError, match=r"^DATABASE_KEEPALIVES_COUNT="):
        settings.check(settings.THOUGHTS, {"DATABASE_KEEPALIVES_COUNT": "x"})
    # Not read by the thoughts backend, so not its business.
    assert settings.check(settings.THOUGHTS, {"DJANGO_DEBUG": "x"})


def test_check_leaves_out_what_the_app_factory_is_given(tmp_path):
    # make exports JWT_PUBLIC_KEY_FILE=var/keys/public.pem, which a fresh clone does not have yet.
    environ = {"JWT_PUBLIC_KEY_FILE": str(tmp_path / "missing.pem")}
    with pytest.raises(SettingError, match=r"^JWT_PUBLIC_KEY_FILE=.* cannot be read"):
        settings.check(settings.THOUGHTS, environ)
    assert "JWT_PUBLIC_KEY" not in settings.check(settings.THOUGHTS, environ, given={"JWT_PUBLIC_KEY": "a key"})


def test_refuse_to_start_turns_a_setting_error_into_one_line_and_exit_status_1():
    with pytest.raises(SystemExit) as stopped, settings.refuse_to_start():
        get("METRICS_ENABLED", {"METRICS_ENABLED": "maybe"})
    assert stopped.value.code == "configuration error: METRICS_ENABLED='maybe': Not a valid boolean."


def test_without_settings_drops_every_variable_of_ours_and_only_those():
    environ = {"PATH": "/bin", "DATABASE_URL": "x", "JWT_PUBLIC_KEY_FILE": "k", "FEATURE_NEW": "1", "CI": "true"}
    assert settings.without_settings(environ) == {"PATH": "/bin"}


def test_every_declaration_is_readable_with_its_default():
    for setting in settings.DECLARED:
        value = get(setting.name, {})
        assert value == (setting.default if setting.kind != "list" else [d for d in setting.default.split(",") if d])
        assert setting.description and setting.readers
