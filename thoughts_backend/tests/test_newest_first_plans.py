"""The newest-first pages (order=desc) walk an index backwards on both engines: no full scan, no sort of every row.

The plans are read with EXPLAIN, as test_migrations reads the search's, on a
table filled enough (and analysed) for PostgreSQL's planner to choose as it would in production.
"""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from thoughts_backend import thoughts
from thoughts_backend.cli import MIGRATIONS
from thoughts_backend.paging import Page
from thoughts_common import migrations

ROWS = 30_000
FILL = {
    "postgresql": "INSERT INTO thoughts (username, text, timestamp) "
    "SELECT 'user' || (i % 100), 'thought ' || i || ' about ' "
    "|| (ARRAY['coffee', 'rain', 'code', 'the night'])[i % 4 + 1], "
    "now() AT TIME ZONE 'UTC' FROM generate_series(1, :rows) AS i",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
    "INSERT INTO thoughts (username, text, timestamp) "
    "SELECT 'user' || (i % 100), 'thought ' || i || ' about ' "
    "|| CASE i % 4 WHEN 0 THEN 'coffee' WHEN 1 THEN 'rain' WHEN 2 THEN 'code' ELSE 'the night' END, "
    "'2026-01-01 00:00:00' FROM n",
}
PAGES = ["first", "before"]


@pytest.fixture
def filled(session):
    dialect = session.get_bind().dialect.name
    session.execute(text(FILL[dialect]), {"rows": ROWS})
    session.execute(
        text("INSERT INTO thoughts (username, text, timestamp) VALUES ('bruce', 'A PLATYPUS!', '2026-01-02')")
    )
    session.commit()
    session.execute(text("ANALYZE thoughts" if dialect == "postgresql" else "ANALYZE"))
    session.commit()
    return dialect


@pytest.fixture(params=PAGES)
def page(request, session, filled):
    """The first newest-first page, or one from the middle of the table (ids go on across tests)."""
    if request.param == "first":
        return Page(order="desc")
    low, high = session.execute(text("SELECT min(id), max(id) FROM thoughts")).one()
    return Page(order="desc", before=(low + high) // 2)


def plan(session, statement):
    return engine_plan(session.get_bind(), statement)


def engine_plan(engine, statement):
    compiled = statement.compile(dialect=engine.dialect)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN (COSTS OFF) {compiled}", compiled.params)
            return "\n".join(row[0] for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
        return "\n".join(row[-1] for row in rows)


def assert_no_full_scan(dialect, shown):
    if dialect == "postgresql":
        assert "Seq Scan" not in shown, shown
    else:
        assert "TEMP B-TREE" not in shown, shown


def test_every_thought_newest_first_walks_the_primary_key_backwards(session, filled, page):
    shown = plan(session, thoughts.search_statement("", page, filled))
    assert_no_full_scan(filled, shown)
    if filled == "postgresql":
        assert "Index Scan Backward using thoughts_pkey" in shown, shown
    else:
        assert "USING INTEGER PRIMARY KEY" in shown, shown


def test_a_search_newest_first_uses_the_text_index(session, filled, page):
    # On a table this small PostgreSQL's cheapest plan depends on the server's cost
    # settings: the trigram index, the primary key walked back from ``before``, or
    # (as the compose image's server chose) reading all 30,000 rows. Its plan is held
    # where the choice matters, by
    # test_a_rare_word_newest_first_on_a_million_rows_uses_the_trigram_index.
    if filled == "sqlite":
        shown = plan(session, thoughts.search_statement("platypus", page, filled))
        assert_no_full_scan(filled, shown)
        assert "VIRTUAL TABLE INDEX" in shown, shown
    found = session.execute(thoughts.search_statement("platypus", page, filled)).all()
    assert [row.text for row in found] == (["A PLATYPUS!"] if page.before is None else [])


def test_a_users_thoughts_newest_first_use_an_index(session, filled, page):
    shown = plan(session, thoughts.for_user_statement("user7", page))
    assert_no_full_scan(filled, shown)
    if filled == "sqlite":
        assert "USING INDEX ix_thoughts_username_id" in shown, shown
    rows = session.execute(thoughts.for_user_statement("user7", page)).all()
    ids = [row.id for row in rows]
    assert ids == sorted(ids, reverse=True) and len(ids) == page.limit + 1


@pytest.fixture(scope="module")
def million(postgres_server):
    """A million thoughts on PostgreSQL, migrated and analysed, between the oldest and the newest users' few.

    ``oldtimer`` wrote the first three thoughts and ``newcomer`` the last three:
    walking the primary key from the other end would read every row to find them.
    """
    rows = 1_000_000
    url = postgres_server.create_database("thoughts_desc_plan")
    # Without the service's deadlines: filling a million rows takes longer than a request may.
    engine = create_engine(url, poolclass=NullPool)
    migrations.upgrade(MIGRATIONS, url, "0001")
    few = "INSERT INTO thoughts (username, text, timestamp) SELECT :username, 'hi', now() FROM generate_series(1, 3)"
    with engine.begin() as connection:
        connection.execute(text(few), {"username": "oldtimer"})
        connection.execute(text(FILL["postgresql"]), {"rows": rows})
        connection.execute(text("INSERT INTO thoughts (username, text, timestamp) VALUES ('b', 'A PLATYPUS!', now())"))
        connection.execute(text(few), {"username": "newcomer"})
    migrations.upgrade(MIGRATIONS, url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE thoughts"))
    yield engine
    engine.dispose()


def test_a_rare_word_newest_first_on_a_million_rows_uses_the_trigram_index(million):
    """As test_migrations' test of the ascending search: walking the primary key back would read every row."""
    for page in (Page(order="desc"), Page(order="desc", before=500_000)):
        shown = engine_plan(million, thoughts.search_statement("platypus", page, "postgresql"))
        assert "ix_thoughts_text_trgm" in shown, shown
        assert "Seq Scan" not in shown, shown
        assert "thoughts_pkey" not in shown, shown


@pytest.mark.parametrize(
    ("username", "page"),
    [
        ("oldtimer", Page(order="desc")),
        ("oldtimer", Page(order="desc", before=500_000)),
        ("newcomer", Page()),
        ("newcomer", Page(after=500_000)),
    ],
    ids=["oldtimer-newest", "oldtimer-before", "newcomer-oldest", "newcomer-after"],
)
def test_a_rare_users_page_on_a_million_rows_reads_the_username_index(million, username, page):
    """Migration 0004's (username, id): no walk of the primary key past everyone else's thoughts.

    (Sorting the user's three rows is what the planner may rightly choose.)
    """
    shown = engine_plan(million, thoughts.for_user_statement(username, page))
    assert "ix_thoughts_username_id" in shown, shown
    assert "Seq Scan" not in shown and "thoughts_pkey" not in shown, shown
    with million.connect() as connection:
        ids = [row.id for row in connection.execute(thoughts.for_user_statement(username, page))]
    assert len(ids) == 3 and ids == sorted(ids, reverse=page.descending)


@pytest.mark.parametrize("page", [Page(order="desc", before=500_000), Page(after=500_000)], ids=["desc", "asc"])
def test_a_busy_users_page_on_a_million_rows_is_one_range_of_the_username_index(million, page):
    """user7 wrote 10,000 of the thoughts: a page reads its 101 rows in order, without sorting the 10,000."""
    shown = engine_plan(million, thoughts.for_user_statement("user7", page))
    direction = "Index Scan Backward" if page.descending else "Index Scan"
    assert f"{direction} using ix_thoughts_username_id" in shown, shown
    assert "Sort" not in shown, shown
    with million.connect() as connection:
        ids = [row.id for row in connection.execute(thoughts.for_user_statement("user7", page))]
    assert len(ids) == page.limit + 1 and ids == sorted(ids, reverse=page.descending)
