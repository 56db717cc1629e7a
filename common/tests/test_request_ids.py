import uuid

import pytest

from thoughts_common import request_id


@pytest.mark.parametrize("value", ["a", "A-b_c.9", "x" * 64])
def test_valid_ids_are_kept(value):
    assert request_id.accept_or_create(value) == value


@pytest.mark.parametrize("value", [None, "", "x" * 65, "a b", "a\nb", "a\x00", "é", "a,b", "a/b"])
def test_other_values_become_a_new_uuid4(value):
    new = request_id.accept_or_create(value)
    assert new != value
    assert uuid.UUID(new).version == 4
