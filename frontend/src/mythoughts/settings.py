"""Settings of the Thoughts frontend, all from the environment (12-factor).

No database: the logged-in user is a JWT in an HttpOnly cookie, as in the
book, and everything else lives in the two backends.
"""

from mythoughts import secret_key
from thoughts_common import features, limits, metrics, settings, tokens

# Every setting the frontend reads, checked at once: a wrong value stops the start (SettingError).
settings.check(settings.FRONTEND)

SECRET_KEY = secret_key.from_environment()

DEBUG = settings.get("DJANGO_DEBUG")
ALLOWED_HOSTS = settings.get("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = settings.get("DJANGO_CSRF_TRUSTED_ORIGINS")

# Behind a TLS-terminating proxy (the Ingress), DJANGO_HTTPS=1 trusts its
# X-Forwarded-Proto and marks every cookie Secure.
if settings.get("DJANGO_HTTPS"):
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
STATIC_ROOT = settings.get("DJANGO_STATIC_ROOT")
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
THOUGHTS_BACKEND_URL = settings.get("THOUGHTS_BACKEND_URL").rstrip("/")
USER_BACKEND_URL = settings.get("USER_BACKEND_URL").rstrip("/")
# Seconds to connect and, separately, to wait for an answer from a backend.
# Above the backends' uWSGI harakiri (15 s, common/uwsgi/base.ini), so a backend
# always answers (or is cut off) before the frontend gives up on it.
BACKEND_TIMEOUT = settings.get("BACKEND_TIMEOUT_SECONDS")
# Thoughts per page; longer lists are paged through the backends' Link headers.
PAGE_SIZE = settings.get("FRONTEND_PAGE_SIZE")

# RS256 public key that verifies the token in the cookie (JWT_PUBLIC_KEY or _FILE).
JWT_PUBLIC_KEY = tokens.load_key("JWT_PUBLIC_KEY")
# The cookie that holds the token, as in the book.
TOKEN_COOKIE = "session"  # noqa: S105 (a cookie name, not a secret)

FEATURE_SIGNUP = features.enabled("signup")
