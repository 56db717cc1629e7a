import pytest


def test_get_one(client, add_thoughts):
    [thought_id] = add_thoughts("stephen", "Naturally! All who come to me are! Speak...")
    response = client.get(f"/api/thoughts/{thought_id}/")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == thought_id
    assert body["username"] == "stephen"
    assert body["text"] == "Naturally! All who come to me are! Speak..."


@pytest.mark.parametrize("thought_id", ["999999", "2147483647"])
def test_absent_is_a_json_404(client, thought_id):
    response = client.get(f"/api/thoughts/{thought_id}/")
    assert response.status_code == 404
    assert response.get_json() == {"message": f"Thought {thought_id} not found"}


ID_MESSAGE = "thought id must be an integer from 1 to 2147483647"
# What is not an id in ASCII digits within the documented range; "%D9%A1" is the Arabic-Indic 1.
NOT_IDS = ["0", str(2**31), str(2**63), str(10**30), "abc", "-1", "1.0", "%D9%A1", "%EF%BC%91", "%20" + "1", "%00"]


@pytest.mark.parametrize("thought_id", NOT_IDS)
def test_ids_that_are_no_ids_are_400(client, add_thoughts, thought_id):
    add_thoughts("bruce", "thought 1")
    response = client.get(f"/api/thoughts/{thought_id}/")
    assert response.status_code == 400
    assert response.get_json() == {"message": ID_MESSAGE}


def test_other_paths_are_json_404(client):
    response = client.get("/api/nothing/")
    assert response.status_code == 404
    assert "message" in response.get_json()


def test_admin_deletes_and_again_is_still_204(client, add_thoughts, admin):
    keep, remove = add_thoughts("bruce", "keep", "remove")

    first = client.delete(f"/admin/thoughts/{remove}/", headers=admin)
    second = client.delete(f"/admin/thoughts/{remove}/", headers=admin)

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.get_data() == b"" and second.get_data() == b""
    assert client.get(f"/api/thoughts/{remove}/").status_code == 404
    assert client.get(f"/api/thoughts/{keep}/").status_code == 200


def test_deleting_what_never_existed_is_204(client, admin):
    assert client.delete("/admin/thoughts/123456789/", headers=admin).status_code == 204


@pytest.mark.parametrize("thought_id", NOT_IDS)
def test_deleting_what_is_no_id_is_400(client, admin, thought_id):
    response = client.delete(f"/admin/thoughts/{thought_id}/", headers=admin)
    assert response.status_code == 400
    assert response.get_json() == {"message": ID_MESSAGE}


def test_delete_without_token_is_401(client, add_thoughts):
    [thought_id] = add_thoughts("bruce", "stays")
    response = client.delete(f"/admin/thoughts/{thought_id}/")
    assert response.status_code == 401
    assert response.get_json() == {"message": "Missing bearer token in the Authorization header"}
    assert client.get(f"/api/thoughts/{thought_id}/").status_code == 200


def test_delete_with_a_bad_token_is_401(client, add_thoughts):
    [thought_id] = add_thoughts("bruce", "stays")
    response = client.delete(f"/admin/thoughts/{thought_id}/", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert client.get(f"/api/thoughts/{thought_id}/").status_code == 200


def test_delete_by_a_non_admin_is_403_even_for_the_author(client, add_thoughts, bruce):
    [thought_id] = add_thoughts("bruce", "stays")
    response = client.delete(f"/admin/thoughts/{thought_id}/", headers=bruce)
    assert response.status_code == 403
    assert response.get_json() == {"message": "Admin role required"}
    assert client.get(f"/api/thoughts/{thought_id}/").status_code == 200


@pytest.mark.parametrize("method", ["put", "patch"])
def test_other_methods_are_405(client, add_thoughts, method):
    [thought_id] = add_thoughts("bruce", "x")
    assert getattr(client, method)(f"/api/thoughts/{thought_id}/").status_code == 405
