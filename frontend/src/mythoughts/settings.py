"""Settings of the Thoughts frontend, all from the environment (12-factor).

No database: the logged-in user is a JWT in an HttpOnly cookie, as in the
book, and everything else lives in the two backends.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mythoughts import secret_key
from thoughts_common import features, limits, metrics, tokens


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent

try:
    SECRET_KEY = secret_key.from_environment()
except secret_key.SecretKeyMissing as exc:
    raise ImproperlyConfigured(str(exc)) from None

DEBUG = os.environ.get("DJANGO_DEBUG", "").strip() == "1"
ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Behind a TLS-terminating proxy (the Ingress), DJANGO_HTTPS=1 trusts its
# X-Forwarded-Proto and marks every cookie Secure.
if _flag("DJANGO_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "django_prometheus",
    "thoughts",
]

MIDDLEWARE = [
    "thoughts.middleware.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "thoughts.middleware.InputRulesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "thoughts.middleware.BackendFailureMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# METRICS_ENABLED=false: no django-prometheus at all (no /metrics, no per-request hooks).
METRICS_ENABLED = metrics.enabled()
if not METRICS_ENABLED:
    INSTALLED_APPS.remove("django_prometheus")
    MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("django_prometheus.")]

ROOT_URLCONF = "mythoughts.urls"
WSGI_APPLICATION = "mythoughts.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "thoughts.context_processors.user_and_features",
            ],
        },
    },
]

# No Django database: sessions, users and thoughts live in the backends.
DATABASES = {}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Static files (Bootstrap, from the npm package) served by WhiteNoise straight
# from the apps' static folders; `collectstatic` into DJANGO_STATIC_ROOT is
# optional (images).
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT") or None
STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Bodies over 64 KB are a 413 (thoughts_common.limits; thoughts.refusals.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = limits.MAX_BODY_BYTES

CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Logging: thoughts_common.logconfig.configure("frontend") (in the app's
# ready()) owns the root logger; Django must not install its own handlers.
LOGGING_CONFIG = None

# The backends (the book's variable names).
THOUGHTS_BACKEND_URL = os.environ.get("THOUGHTS_BACKEND_URL", "http://127.0.0.1:8001").rstrip("/")
USER_BACKEND_URL = os.environ.get("USER_BACKEND_URL", "http://127.0.0.1:8002").rstrip("/")
# Seconds to connect and, separately, to wait for an answer from a backend.
# Above the backends' uWSGI harakiri (15 s, common/uwsgi/base.ini), so a backend
# always answers (or is cut off) before the frontend gives up on it.
BACKEND_TIMEOUT = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "20"))
# Thoughts per page; longer lists are paged through the backends' Link headers.
PAGE_SIZE = int(os.environ.get("FRONTEND_PAGE_SIZE", "20"))

# RS256 public key that verifies the token in the cookie (JWT_PUBLIC_KEY or _FILE).
JWT_PUBLIC_KEY = tokens.load_key("JWT_PUBLIC_KEY")
# The cookie that holds the token, as in the book.
TOKEN_COOKIE = "session"  # noqa: S105 (a cookie name, not a secret)

FEATURE_SIGNUP = features.enabled("signup")
