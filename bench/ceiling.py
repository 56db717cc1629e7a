"""The ceiling: a hello-world Flask app, served under the services' own uWSGI settings (bench/ceiling.ini)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
