"""Traffic for the dashboards: people who log in, share, list and search.

Runs against the frontend, so every click also reaches the backends:
    make traffic                       (headless, against the native stack)
    TRAFFIC_USERS=ann:pw,bob:pw make traffic
"""

import os
import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WORDS = ["platypus", "gamma", "lab", "python", "docker", "thoughts", "microservice", "café", "100%", "snake_case"]


def accounts():
    pairs = os.environ.get("TRAFFIC_USERS", "bruce:bruce,stephen:stephen")
    return [tuple(pair.split(":", 1)) for pair in pairs.split(",") if ":" in pair]


def csrf_token(html):
    match = CSRF.search(html)
    return match.group(1) if match else ""


class Thinker(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        self.username, password = random.choice(accounts())
        page = self.client.get("/login/", name="/login/ [form]")
        self.client.post(
            "/login/",
            data={"csrfmiddlewaretoken": csrf_token(page.text), "username": self.username, "password": password},
            headers={"Referer": self.host + "/login/"},
        )

    @task(5)
    def list_mine(self):
        self.client.get("/thoughts/")

    @task(3)
    def search(self):
        self.client.get("/search", params={"search": random.choice(WORDS)}, name="/search")

    @task(2)
    def share(self):
        page = self.client.get("/thoughts/")
        text = " ".join(random.sample(WORDS, 4))
        self.client.post(
            "/thoughts/new",
            data={"csrfmiddlewaretoken": csrf_token(page.text), "text": f"{self.username} thinks: {text}"},
            headers={"Referer": self.host + "/thoughts/"},
        )

    @task(1)
    def blank_thought(self):
        """An expected 4xx now and then, so the error panels have a baseline."""
        page = self.client.get("/thoughts/")
        with self.client.post(
            "/thoughts/new",
            data={"csrfmiddlewaretoken": csrf_token(page.text), "text": "   "},
            headers={"Referer": self.host + "/thoughts/"},
            catch_response=True,
        ) as response:
            if response.status_code == 400:
                response.success()
