"""Data for demos and benchmarks: the book's five thoughts, and synthetic ones by the thousand."""

import datetime as dt
import logging
import random

from sqlalchemy import insert, select

from thoughts_backend.models import Thought, utcnow
from thoughts_common.contract import THOUGHT_MAX_LENGTH

logger = logging.getLogger(__name__)

# The book's demo data (load_test_data.py), typo included; timestamps in UTC.
DEMO_THOUGHTS = [
    (
        "bruce",
        dt.datetime(1962, 5, 11, 9, 53, 41),
        "A few seconds more and we'll know wether we have succeeded or not!",
    ),
    ("bruce", dt.datetime(1962, 5, 11, 9, 58, 23), "And now, if you'll excuse me, it's time for the final countdown"),
    (
        "bruce",
        dt.datetime(1962, 5, 11, 10, 7, 13),
        "In a few seconds we will finally learn what happens when the powerful gamma rays are released",
    ),
    ("stephen", dt.datetime(1963, 6, 11, 19, 53, 41), "Naturally! All who come to me are! Speak..."),
    (
        "stephen",
        dt.datetime(1963, 6, 11, 19, 58, 23),
        "Tonight I shall visit you! I shall find the answer to your dream! Now go",
    ),
]

WORDS = (
    "the a of and to in is it that for on with as at by from about thought idea today tomorrow "
    "coffee café tea rain sun moon star river mountain city night morning dream code python docker "
    "kubernetes microservice metrics logs deploy release test bug fix feature search page cache queue "
    "happy tired curious busy quiet loud small big new old fast slow naïve résumé Zürich 日本 😀 🚀"
).split()


def seed_demo(session):
    """Add the book's demo thoughts that are not there yet; returns how many were added."""
    demo_users = {username for username, _, _ in DEMO_THOUGHTS}
    existing = {
        tuple(row)
        for row in session.execute(select(Thought.username, Thought.text).where(Thought.username.in_(demo_users)))
    }
    missing = [
        Thought(username=username, text=text, timestamp=timestamp)
        for username, timestamp, text in DEMO_THOUGHTS
        if (username, text) not in existing
    ]
    session.add_all(missing)
    session.commit()
    if missing:
        logger.info("Added %d demo thoughts", len(missing))
    return len(missing)


def synthetic_text(rng):
    words = rng.choices(WORDS, k=rng.randint(3, 30))
    return " ".join(words)[:THOUGHT_MAX_LENGTH].strip()


def synthetic_rows(count, users, rng):
    """``count`` thoughts from ``users`` synthetic users, as rows for a bulk INSERT."""
    now = utcnow()
    for _ in range(count):
        yield {"username": f"synthetic_{rng.randrange(users):04d}", "text": synthetic_text(rng), "timestamp": now}


def load_synthetic(session, count, users=100, seed=None, batch_size=1000, progress=None):
    """Insert ``count`` synthetic thoughts in batches; ``progress(n)`` is called after each batch."""
    rng = random.Random(seed)
    rows = synthetic_rows(count, users, rng)
    done = 0
    while done < count:
        batch = [next(rows) for _ in range(min(batch_size, count - done))]
        session.execute(insert(Thought), batch)
        session.commit()
        done += len(batch)
        if progress:
            progress(len(batch))
    logger.info("Loaded %d synthetic thoughts", count)
    return done
