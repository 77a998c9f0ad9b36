"""Settings, read from the environment.

COLLAB_ENV chooses the deployment: ``local`` (demo, the default), ``test`` or ``production``.
DATABASE_URL chooses the database; without it collab uses an embedded SQLite file.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent

ENV = os.environ.get("COLLAB_ENV", "local")
if ENV not in {"local", "test", "production"}:
    raise RuntimeError(f"COLLAB_ENV must be local, test or production, not {ENV!r}")
PRODUCTION = ENV == "production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("COLLAB_DEBUG", ENV == "local")
SECRET_KEY = os.environ.get("COLLAB_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("COLLAB_SECRET_KEY must be set in production")
    SECRET_KEY = "insecure-local-only-" + "x" * 40  # noqa: S105 - never used in production

ALLOWED_HOSTS = [h for h in os.environ.get("COLLAB_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

# A triage, appointment or case gives its service a legitimate relationship with the patient
# while it is current and for this many days after (the shared record's access rule).
RELATIONSHIP_RECENT_DAYS = int(os.environ.get("COLLAB_RELATIONSHIP_RECENT_DAYS", 28))
# Break-glass emergency access lasts this long before the user must break glass again.
BREAK_GLASS_MINUTES = int(os.environ.get("COLLAB_BREAK_GLASS_MINUTES", 30))
# Dashboards say collab's own figures are out of date once their last refresh is this old
# (docs/adr/0007-analytics-freshness.md).
ANALYTICS_STALE_MINUTES = int(os.environ.get("COLLAB_ANALYTICS_STALE_MINUTES", 60))

# Test NHS numbers (999...) are accepted everywhere but production.
ALLOW_TEST_NHS_NUMBERS = _env_bool("COLLAB_ALLOW_TEST_NHS_NUMBERS", not PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "collab.core",
    "collab.accounts",
    "collab.organisations",
    "collab.patients",
    "collab.booking",
    "collab.api",
    "collab.analytics",
    "collab.privacy",
    "collab.ooh",
    "collab.records",
    "collab.triage",
]
if not PRODUCTION:
    INSTALLED_APPS.append("collab.nonprod")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "collab.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "collab.accounts.middleware.SessionTimeoutMiddleware",
    "collab.accounts.middleware.ActingRoleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The FHIR API (API_PATH_PREFIX) is served through these only (collab/config/wsgi.py): it
# authenticates every request by bearer token, so sessions, CSRF, sign-in, OTP, messages and the
# acting role would only cost each API request CPU at 08:00 (ADR 0006). Host validation and every
# security header stay.
API_PATH_PREFIX = "/fhir/"
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "collab.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "collab.config.urls"
WSGI_APPLICATION = "collab.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "collab.core.jinja.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "collab.accounts.context_processors.acting",
            ],
        },
    },
    {
        # Only for Django's own pages (admin is not installed; kept for error pages).
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    },
]

# Database: SQLite (embedded default) or PostgreSQL through DATABASE_URL.
_default_sqlite = os.environ.get("COLLAB_SQLITE_PATH", str(PROJECT_DIR / "var" / "collab.sqlite3"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
            "COLLAB_TEST_DB_NAME", "test_collab"
        )
        # Django turns psycopg's statement preparation off (prepare_threshold None). Its own
        # client-side-binding cursors never prepare anyway; this lets the hot path's server-side
        # cursor (core.db.hot_path_cursor) prepare its statements, so PostgreSQL plans the
        # booking statement once per connection instead of on every booking (ADR 0006).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    # A fresh clone has no var/ yet: SQLite creates the file, not its folder.
    Path(_default_sqlite).parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _default_sqlite,
            "OPTIONS": {
                # IMMEDIATE: a writer takes the lock when its transaction starts, so concurrent
                # writers queue (busy_timeout) rather than failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": os.environ.get("COLLAB_TEST_SQLITE_PATH") or None},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"

# Sessions end after 15 minutes idle or 12 hours in all (NHS guidance).
SESSION_IDLE_SECONDS = int(os.environ.get("COLLAB_SESSION_IDLE_SECONDS", 15 * 60))
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("COLLAB_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Login attempts: at most this many failures per username or address per window.
LOGIN_RATE_LIMIT = int(os.environ.get("COLLAB_LOGIN_RATE_LIMIT", 5))
LOGIN_RATE_WINDOW_SECONDS = int(os.environ.get("COLLAB_LOGIN_RATE_WINDOW", 15 * 60))

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PROJECT_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("COLLAB_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# HSTS header on every response, also behind a TLS-terminating proxy in local runs.
COLLAB_HSTS_HEADER = "max-age=63072000; includeSubDomains; preload"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("COLLAB_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry query strings (which may hold NHS numbers): keep them out.
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        "django.request": {"level": "ERROR"},
    },
}
LOGIN_URL_PATH = "/account/sign-in/"

# NHS CIS2 (OIDC, authorization code flow with PKCE), beside the local password + TOTP sign-in.
# Off unless CIS2_ISSUER is set. The issuer's /.well-known/openid-configuration names the endpoints.
CIS2_ISSUER = os.environ.get("COLLAB_CIS2_ISSUER", "")
CIS2_CLIENT_ID = os.environ.get("COLLAB_CIS2_CLIENT_ID", "")
CIS2_CLIENT_SECRET = os.environ.get("COLLAB_CIS2_CLIENT_SECRET", "")
CIS2_REDIRECT_URI = os.environ.get("COLLAB_CIS2_REDIRECT_URI", "")
CIS2_SCOPES = os.environ.get("COLLAB_CIS2_SCOPES", "openid profile nationalrbacaccess")
CIS2_TIMEOUT_SECONDS = float(os.environ.get("COLLAB_CIS2_TIMEOUT", 10))
# CIS2 sign-in asks CIS2 for this Authentication Context Class (OIDC acr_values, space-separated in
# order of preference) and signs the user in only if the ID token's acr is one of the accepted classes:
# CIS2's multi-factor ones, AAL2 ("high confidence") or AAL3 ("very high confidence": smartcard and as
# strong). A CIS2 sign-in is the second factor (no collab security code is asked for), so the
# password-only class AAL1_USERPASS is never accepted: collab refuses to start if it is (ADR 0003).
CIS2_SIGN_IN_ACR_VALUES = os.environ.get("COLLAB_CIS2_SIGN_IN_ACR_VALUES", "AAL2_OR_AAL3_ANY")
CIS2_SIGN_IN_ACCEPTED_ACR = tuple(os.environ.get(
    "COLLAB_CIS2_SIGN_IN_ACCEPTED_ACR",
    "AAL2_OR_AAL3_ANY AAL2_ANY AAL3_ANY AAL3_IOS AAL3_FIDO2 AAL3_N3_SMARTCARD").replace(",", " ").split())
if "AAL1_USERPASS" in CIS2_SIGN_IN_ACCEPTED_ACR:
    raise RuntimeError("COLLAB_CIS2_SIGN_IN_ACCEPTED_ACR must not accept AAL1_USERPASS: a CIS2 sign-in stands in "
                       "for the second factor, so it must be multi-factor")
# Break-glass by CIS2 re-authentication asks CIS2 for this class, and opens only if the ID token's acr
# is one of the accepted classes: CIS2's AAL3 ones (smartcard and authenticators as strong). Never
# accept an AAL2 or AAL1 class here (AAL2_OR_AAL3_ANY, AAL2_ANY, AAL1_USERPASS): the acr is what CIS2
# vouches for, and signing in already takes AAL2.
CIS2_BREAK_GLASS_ACR_VALUES = os.environ.get("COLLAB_CIS2_BREAK_GLASS_ACR_VALUES", "AAL3_ANY")
CIS2_BREAK_GLASS_ACCEPTED_ACR = tuple(os.environ.get(
    "COLLAB_CIS2_BREAK_GLASS_ACCEPTED_ACR", "AAL3_ANY AAL3_IOS AAL3_FIDO2 AAL3_N3_SMARTCARD").replace(",", " ").split())

# Outside production, serve static files straight from the app folders (no collectstatic step).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
