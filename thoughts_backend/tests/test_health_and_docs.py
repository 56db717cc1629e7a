import uuid

from thoughts_common.testing.network import free_port


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_does_not_answer(rsa_key_pair):
    from thoughts_backend import create_app

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": rsa_key_pair[1]})
    try:
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["message"].startswith("database unreachable")
        assert client.get("/healthz").status_code == 200
    finally:
        app.extensions["database"].dispose()


def test_swagger_ui_and_spec(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "swagger-ui" in page.get_data(as_text=True)
    spec = client.get("/swagger.json").get_json()
    assert spec["info"]["title"] == "Thoughts backend"
    assert set(spec["paths"]) == {
        "/api/me/thoughts/",
        "/api/thoughts/",
        "/api/thoughts/{thought_id}/",
        "/admin/thoughts/{thought_id}/",
    }
    parameters = {p["name"] for p in spec["paths"]["/api/thoughts/"]["get"]["parameters"]}
    assert {"search", "limit", "after"} <= parameters


def test_every_response_carries_a_request_id(client, bruce):
    for response in (
        client.get("/api/thoughts/"),
        client.get("/api/me/thoughts/"),
        client.post("/api/me/thoughts/", json={}, headers=bruce),
        client.get("/nowhere"),
    ):
        assert uuid.UUID(response.headers["X-Request-ID"]).version == 4
    assert client.get("/api/thoughts/", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == "abc-1"
