"""``make bench``: the services under their real uWSGI settings, measured with wrk (see bench/run.py)."""
