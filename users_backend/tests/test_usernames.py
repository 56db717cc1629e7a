"""Usernames: the NFKC, case-folded key, and the rules new ones follow."""

import re

import pytest

from thoughts_common import contract
from users_backend import users
from users_backend.models import User


@pytest.mark.parametrize(
    ("username", "key"),
    [("bruce", "bruce"), ("Bruce", "bruce"), ("\uff22\uff52\uff55\uff43\uff45", "bruce"), ("Straße", "strasse")],
)
def test_key_is_nfkc_and_case_folded(username, key):
    assert users.username_key(username) == key


@pytest.mark.parametrize("username", ["a\x00b", "a\ud800b", "a\udcffb"], ids=["nul", "surrogate", "surrogateescape"])
def test_unstorable_usernames_are_invalid_also_outside_the_api(session, username):
    with pytest.raises(users.InvalidUser):
        users.create_user(session, username, "pw")


def test_the_documented_pattern_is_the_rule():
    pattern = re.compile(contract.USERNAME_PATTERN)
    for good in ("bruce", "Bruce Wayne", "日本", "a"):
        assert pattern.fullmatch(good)
        users.validate(good, "pw")
    for bad in (" x", "x ", "a\tb", "a\u200bb", "\u202ex", "a\x85b"):
        assert not pattern.fullmatch(bad)
        with pytest.raises(users.InvalidUser):
            users.validate(bad, "pw")


def test_a_look_alike_stored_before_the_key_still_logs_in_with_its_own_name(session, make_user):
    """What migration 0003 leaves when look-alikes were already there: the exact name wins."""
    bruce = make_user("bruce", "bruce-pw")
    session.add(User(username="BRUCE", username_key="bruce\n99", password_hash=bruce.password_hash))
    session.commit()
    assert users.find(session, "BRUCE").username == "BRUCE"
    assert users.find(session, "bruce").username == "bruce"
    assert users.find(session, "Bruce").username == "bruce"
