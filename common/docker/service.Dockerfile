# One Dockerfile for the three Python services: they differ only in the
# package they install and the tests they run. Build context: the repository
# root (the service needs common/ and the lock file).
#
#   docker build -f common/docker/service.Dockerfile --build-arg SERVICE=users_backend .
#   ... --target test   an image that runs the service's tests (docker compose run <service>-test)
#
# SERVICE         users_backend | thoughts_backend | frontend
# TEST_PACKAGES   other local packages the service's tests start for real
#                 (the thoughts backend's tests log in through the users backend)
# TEST_APT        Debian packages the tests drive (the frontend's: chromium)
#
# The stages before `ARG SERVICE` do not depend on the service, so the three
# images share them (and their layers) and uWSGI is compiled once.

# Debian's Python 3.11 and nothing else. The base is debootstrapped here (no
# docker-clean hook), so apt's caches are removed by hand: they were 88 MB.
FROM debian:bookworm-slim AS python
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libpython3.11 ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin thoughts

FROM python AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv python3-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
# The service's virtualenv has no pip or setuptools (25 MB it never uses at
# run time); a separate one holds pip and installs into it with --python.
RUN python3 -m venv /opt/pip \
    && python3 -m venv --without-pip /opt/venv
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/lock.txt /src/requirements/lock.txt
# uWSGI compiles for a minute: its own layer, shared by the three services.
RUN /opt/pip/bin/pip --python /opt/venv/bin/python install -c /src/requirements/lock.txt uwsgi
COPY common /src/common
ARG SERVICE
COPY ${SERVICE} /src/${SERVICE}
# The lock file pins every version; only what this service needs is installed.
# Extension modules ship with their symbols: stripped, SQLAlchemy's and
# cryptography's lose most of their size (vendored .libs are left as they are).
RUN /opt/pip/bin/pip --python /opt/venv/bin/python install -c /src/requirements/lock.txt /src/common /src/${SERVICE} \
    && find /opt/venv -name '*.so' -not -path '*.libs/*' -exec strip --strip-unneeded {} +

FROM python AS runtime
ARG SERVICE
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

# The service's tests inside its image, run by `docker compose run <service>-test`
# against the compose PostgreSQL (CI=true there: nothing may skip). The Debian
# packages the tests drive come first, so that a change of the code does not
# download them again; the rest is the runtime stage's content plus the tests.
FROM python AS test-system
ARG TEST_APT=""
RUN if [ -n "$TEST_APT" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends $TEST_APT \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/*; \
    fi

FROM test-system AS test
ARG SERVICE
ARG TEST_PACKAGES=""
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/pip /opt/pip
COPY requirements/lock.txt /src/requirements/lock.txt
COPY common /src/common
COPY common/uwsgi/base.ini /srv/thoughts/common/uwsgi/base.ini
COPY users_backend /srv/thoughts/users_backend
COPY thoughts_backend /srv/thoughts/thoughts_backend
COPY frontend /srv/thoughts/frontend
RUN cd /srv/thoughts \
    && /opt/pip/bin/pip --python /opt/venv/bin/python install -c /src/requirements/lock.txt \
        "/src/common[testing]" ${TEST_PACKAGES} "./${SERVICE}[testing]" pytest-timeout \
    && mkdir -p /srv/thoughts/test-artifacts \
    && chown -R 10001 /srv/thoughts
WORKDIR /srv/thoughts/${SERVICE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1
USER 10001
CMD ["pytest", "-q", "-p", "no:cacheprovider"]
