from sqlalchemy import func, select

from thoughts_backend import seeding
from thoughts_backend.models import Thought
from thoughts_common.contract import THOUGHT_MAX_LENGTH


def test_demo_thoughts_are_added_once(client, session, bruce, stephen):
    assert seeding.seed_demo(session) == 5
    assert seeding.seed_demo(session) == 0

    mine = client.get("/api/me/thoughts/", headers=bruce).get_json()
    assert [t["text"] for t in mine] == [text for user, _, text in seeding.DEMO_THOUGHTS if user == "bruce"]
    assert mine[0]["timestamp"] == "1962-05-11T09:53:41"
    assert len(client.get("/api/me/thoughts/", headers=stephen).get_json()) == 2
    found = client.get("/api/thoughts/?search=final countdown").get_json()
    assert [t["username"] for t in found] == ["bruce"]


def test_a_missing_demo_thought_is_put_back_and_others_are_left_alone(client, session, admin):
    seeding.seed_demo(session)
    first = client.get("/api/thoughts/?limit=1").get_json()[0]
    client.delete(f"/admin/thoughts/{first['id']}/", headers=admin)

    assert seeding.seed_demo(session) == 1
    assert session.scalar(select(func.count()).select_from(Thought)) == 5


def test_synthetic_load_inserts_exactly_count_in_batches(session):
    batches = []

    loaded = seeding.load_synthetic(session, 2345, users=7, seed=3, batch_size=1000, progress=batches.append)

    assert loaded == 2345
    assert batches == [1000, 1000, 345]
    assert session.scalar(select(func.count()).select_from(Thought)) == 2345
    assert session.scalar(select(func.count(func.distinct(Thought.username)))) <= 7
    assert session.scalar(select(func.max(func.length(Thought.text)))) <= THOUGHT_MAX_LENGTH
    assert session.scalar(select(func.min(func.length(Thought.text)))) > 0


def test_synthetic_thoughts_are_searchable(client, session):
    seeding.load_synthetic(session, 300, seed=1)
    response = client.get("/api/thoughts/?search=CAFÉ&limit=500")
    assert response.status_code == 200
    assert response.get_json()
    assert all("café" in t["text"].lower() for t in response.get_json())


def test_same_seed_same_thoughts():
    import random

    first = list(seeding.synthetic_rows(20, 5, random.Random(9)))
    second = list(seeding.synthetic_rows(20, 5, random.Random(9)))
    assert [r["text"] for r in first] == [r["text"] for r in second]
