# One Dockerfile for the three Python services: they differ only in the
# package they install and the tests they run. Build context: the repository
# root (the service needs common/ and the lock file).
#
#   docker build -f common/docker/service.Dockerfile --build-arg SERVICE=users_backend .
#   ... --target test   runs the service's tests inside the image; a failing test fails the build
#
# SERVICE         users_backend | thoughts_backend | frontend
# TEST_PACKAGES   other local packages the service's tests start for real
#                 (the thoughts backend's tests log in through the users backend)

ARG SERVICE

FROM debian:bookworm-slim AS build
ARG SERVICE
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
COPY requirements/lock.txt /src/requirements/lock.txt
COPY common /src/common
COPY ${SERVICE} /src/${SERVICE}
# The lock file pins every version; only what this service needs is installed.
RUN /opt/venv/bin/pip install --no-cache-dir -c /src/requirements/lock.txt /src/common /src/${SERVICE} uwsgi

FROM debian:bookworm-slim AS runtime
ARG SERVICE
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libpython3.11 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin thoughts
COPY --from=build /opt/venv /opt/venv
# The repository's layout, so uwsgi.ini finds ../common/uwsgi/base.ini.
COPY common/uwsgi/base.ini /srv/thoughts/common/uwsgi/base.ini
COPY ${SERVICE}/uwsgi.ini /srv/thoughts/${SERVICE}/uwsgi.ini
WORKDIR /srv/thoughts/${SERVICE}
# PROMETHEUS_MULTIPROC_DIR: uwsgi.ini picks /tmp/<service>-metrics unless it is set.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HTTP_BIND=0.0.0.0:8000
USER 10001
EXPOSE 8000
# The probe- request id lets the central syslog drop health-check noise.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python3", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'X-Request-ID': 'probe-docker'}), timeout=2)"]
# uwsgi.ini makes SIGTERM a graceful stop (docker stop, Kubernetes).
STOPSIGNAL SIGTERM
CMD ["uwsgi", "--ini", "uwsgi.ini"]

FROM runtime AS test
ARG SERVICE
ARG TEST_PACKAGES=""
USER root
COPY requirements/lock.txt /src/requirements/lock.txt
COPY common /src/common
COPY users_backend /srv/thoughts/users_backend
COPY thoughts_backend /srv/thoughts/thoughts_backend
COPY frontend /srv/thoughts/frontend
RUN cd /srv/thoughts \
    && /opt/venv/bin/pip install --no-cache-dir -c /src/requirements/lock.txt \
        "/src/common[testing]" ${TEST_PACKAGES} "./${SERVICE}[testing]" pytest-timeout \
    && mkdir -p /srv/thoughts/test-artifacts \
    && chown -R 10001 /srv/thoughts
USER 10001
# Without a database server at build time the PostgreSQL cases skip here;
# `docker compose run --rm <service>-test` runs them against the compose database with CI=true.
RUN pytest -q -p no:cacheprovider
CMD ["pytest", "-q", "-p", "no:cacheprovider"]
