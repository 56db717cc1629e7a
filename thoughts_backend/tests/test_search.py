import pytest
from sqlalchemy import update

from thoughts_backend import thoughts
from thoughts_backend.models import Thought


@pytest.fixture
def corpus(add_thoughts):
    texts = [
        "Platypus sighted near the river",  # 0
        "the PLATYPUS is a mammal",  # 1
        "100% sure",  # 2
        "1000 reasons",  # 3
        "snake_case names",  # 4
        "snakeXcase names",  # 5
        "a back\\slash here",  # 6
        "a plain slash / here",  # 7
        "Café au lait",  # 8
        "CAFÉ NOIR",  # 9
        "Straße und Ölkännchen",  # 10
        "launch day 🚀 and more",  # 11
        "ΣΟΦΙΑ in Greek",  # 12
        'she said "hello" twice',  # 13
        "ᲗᲑᲘᲚᲘᲡᲘ and ᏣᎳᎩ",  # 14: Georgian Mtavruli and Cherokee, newer than SQLite's FTS5 case table
    ]
    ids = add_thoughts("bruce", *texts)
    return dict(enumerate(ids))


def search(client, term):
    response = client.get("/api/thoughts/", query_string={"search": term})
    assert response.status_code == 200
    return [thought["id"] for thought in response.get_json()]


@pytest.mark.parametrize("term", ["platypus", "PLATYPUS", "PlAtYpUs", "latyp"])
def test_case_insensitive_substring(client, corpus, term):
    assert search(client, term) == [corpus[0], corpus[1]]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("%", [2]),
        ("0%", [2]),
        ("_", [4]),
        ("e_c", [4]),
        ("\\", [6]),
        ("k\\s", [6]),
        ("\\%", []),
        ("%%", []),
    ],
    ids=[
        "percent",
        "digit-percent",
        "underscore",
        "underscore-inside",
        "backslash",
        "backslash-inside",
        "escaped",
        "two",
    ],
)
def test_wildcards_and_backslash_are_literal(client, corpus, term, expected):
    assert search(client, term) == [corpus[i] for i in expected]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("café", [8, 9]),
        ("CAFÉ", [8, 9]),
        ("Café", [8, 9]),
        ("ölkänn", [10]),
        ("STRAßE", [10]),
        ("🚀", [11]),
        ("day 🚀 and", [11]),
        ("σοφια", [12]),
        ("თბილისი", [14]),
        ("ᲗᲑᲘᲚᲘᲡᲘ", [14]),
        ("ꮳꮃꭹ", [14]),
        ("ᏣᎳᎩ", [14]),
    ],
)
def test_unicode(client, corpus, term, expected):
    assert search(client, term) == [corpus[i] for i in expected]


def test_no_match_is_an_empty_list(client, corpus):
    assert search(client, "wombat") == []


def test_without_search_everything_is_listed_in_id_order(client, corpus):
    everything = sorted(corpus.values())
    assert search(client, "") == everything
    response = client.get("/api/thoughts/")
    assert [t["id"] for t in response.get_json()] == everything


def test_results_carry_the_whole_thought(client, corpus):
    [thought] = client.get("/api/thoughts/", query_string={"search": "mammal"}).get_json()
    assert thought["id"] == corpus[1]
    assert thought["username"] == "bruce"
    assert thought["text"] == "the PLATYPUS is a mammal"


def test_spaces_count(client, corpus):
    assert search(client, "au lait") == [corpus[8]]
    assert search(client, "aulait") == []


def test_nul_in_the_search_is_400(client, corpus):
    response = client.get("/api/thoughts/?search=a%00b")
    assert response.status_code == 400
    assert response.get_json() == {"message": "search must not contain NUL characters"}


@pytest.mark.parametrize(("term", "expected"), [('"hello"', [13]), ('d "h', [13]), ('"', [13]), ('""', [])])
def test_double_quotes_are_literal(client, corpus, term, expected):
    assert search(client, term) == [corpus[i] for i in expected]


def test_a_thought_is_found_once_written_and_not_once_deleted(client, add_thoughts, session):
    assert search(client, "wombat") == []
    [first, second] = add_thoughts("bruce", "a Wombat", "two WOMBATS")
    assert search(client, "wombat") == [first, second]

    session.execute(update(Thought).where(Thought.id == first).values(text="a koala"))
    session.commit()
    assert search(client, "wombat") == [second]
    assert search(client, "koala") == [first]

    assert client.get(f"/api/thoughts/{second}/").status_code == 200
    thoughts.delete_thought(session, second)
    assert search(client, "wombat") == []


@pytest.mark.parametrize("term", ["wombat", "wo", "w"])
def test_paging_through_the_matches(client, add_thoughts, term):
    ids = add_thoughts("bruce", *[f"wombat number {i}" for i in range(5)])
    add_thoughts("bruce", "koala")
    seen, after = [], 0
    while True:
        response = client.get("/api/thoughts/", query_string={"search": term, "limit": 2, "after": after})
        page = [thought["id"] for thought in response.get_json()]
        seen += page
        if "Link" not in response.headers:
            break
        after = page[-1]
    assert seen == ids
