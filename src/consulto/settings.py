"""Django settings, read from the environment.

Secure by default: DEBUG is off unless CONSULTO_DEBUG=1 (``consulto run`` turns it on for the
demo). Variables:

- CONSULTO_SECRET_KEY     required in production; otherwise a random key kept in the data dir
- CONSULTO_DEBUG          1 to enable debug pages (development only)
- CONSULTO_ALLOWED_HOSTS  comma-separated host names (default: 127.0.0.1,localhost)
- CONSULTO_HTTPS          0 to serve without the HTTPS-only cookie and redirect settings (default:
                          on whenever DEBUG is off)
- CONSULTO_DATA_DIR       where SQLite, the generated key and uploads live (default: ./var)
- DATABASE_URL            e.g. postgres://user@host:5432/consulto (default: SQLite in the data dir)
- REDIS_URL               e.g. redis://127.0.0.1:6379/0: channel layer and cache
                          (default: in-process)
- CONSULTO_CSRF_TRUSTED_ORIGINS  comma-separated origins behind a proxy
- CONSULTO_EMAIL_BACKEND  a Django e-mail backend (default: SMTP; console when DEBUG)
- CONSULTO_EMAIL_HOST, CONSULTO_EMAIL_PORT, CONSULTO_EMAIL_USER, CONSULTO_EMAIL_PASSWORD,
  CONSULTO_EMAIL_TLS, CONSULTO_FROM_EMAIL   the SMTP server messages leave through
- CONSULTO_SMS_BACKEND    dotted path of an SMS backend (default: console when DEBUG, else a
                          file in the data dir; see notifications/sms.py)
- CONSULTO_SITE_URL       the public address used in links sent by e-mail and SMS
- CONSULTO_SUPPORT_ADDRESS  the support desk's e-mail address (replies thread by its +tag)
- CONSULTO_SUPPORT_IMAP_HOST, CONSULTO_SUPPORT_IMAP_PORT (993), CONSULTO_SUPPORT_IMAP_USER,
  CONSULTO_SUPPORT_IMAP_SSL (1), CONSULTO_SUPPORT_IMAP_FOLDER (INBOX),
  CONSULTO_SUPPORT_IMAP_MOVE_TO (empty: leave read mail where it is),
  CONSULTO_SUPPORT_IMAP_INTERVAL (60 seconds)   the mailbox that ``manage.py support_mail_in``
                          polls for the support address's mail; its password is read by the
                          command from CONSULTO_SUPPORT_IMAP_PASSWORD (or --password-env VAR)
- CONSULTO_SITE_NAME      the platform's name in e-mails (default: Consulto)
- CONSULTO_HOLD_MINUTES   how long a slot chosen on the booking pages stays held (default 7)
- CONSULTO_WAITLIST_HOLD_MINUTES  how long a freed slot stays held for the first patient on
                          the waiting list (default 30)
- CONSULTO_ENCRYPTION_KEYS  Fernet keys for notes and documents, comma-separated, newest
                          first (default: one generated in the data dir); see core/crypto.py
- CONSULTO_HOLD_LIMITS, CONSULTO_BOOKING_LIMITS, CONSULTO_HOLDS_AT_ONCE,
  CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS  what one visitor may hold and book (see below;
  "account=10/h,patient=5/h,address=60/h", 0 for no limit)
- CONSULTO_STAFF_SESSION_MINUTES  a back-office session lapses after this quiet spell (30)
- CONSULTO_DB_POOL_MIN, CONSULTO_DB_POOL_MAX  PostgreSQL connections per process (2, 20)
- CONSULTO_JANUS_URL      Janus's HTTP API with its SIP plugin, e.g. http://127.0.0.1:8088/janus
                          (default: none, and the support console cannot call phones)
- CONSULTO_JANUS_API_SECRET  Janus's ``api_secret``: required with CONSULTO_JANUS_URL; it stays
                          on the server (browsers never talk to Janus's API)
- CONSULTO_SIP_PROXY, CONSULTO_SIP_DOMAIN  the SIP trunk (e.g. sip:127.0.0.1:5060 and
                          sip.example.org: numbers are called as sip:+33611223344@DOMAIN)
- CONSULTO_SIP_USERNAME, CONSULTO_SIP_SECRET  the trunk account agents call out through
- CONSULTO_SIP_CALLER_ID  the number the called phone shows (P-Asserted-Identity; optional)
- CONSULTO_LOG_LEVEL
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CONSULTO_DATA_DIR") or Path.cwd() / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_flag("CONSULTO_DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("CONSULTO_SECRET_KEY")
    if key:
        return key
    # A random per-installation key, never one written in the source.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CONSULTO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CONSULTO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's list of security keys says "last used 2 days ago"
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "consulto.core",  # before allauth: its templates override allauth's layout
    "ninja",  # serves the OpenAPI docs page from its own static files, no CDN
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "consulto.directory",
    "consulto.scheduling",
    "consulto.notifications",
    "consulto.patients",
    "consulto.practice",
    "consulto.onboarding",
    "consulto.teleconsultation",
    "consulto.referral",
    "consulto.support",
    "consulto.api",
    "oauth2_provider",
    "consulto.fhir",
    "consulto.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "consulto.core.staticfiles.StaticFilesMiddleware",  # WhiteNoise
    "consulto.core.middleware.RefuseNulBytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

# Pages load nothing from any other site: no CDN, no font service, no analytics.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The nonce lets the agenda's calendar inject its own stylesheet (FullCalendar reads it
        # from <meta name="csp-nonce">); it is only sent on pages that ask for it.
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],  # the calendar's icon font is embedded
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
RATELIMIT_VIEW = "consulto.patients.views.booking.rate_limited"
CSRF_FAILURE_VIEW = "consulto.core.views.csrf_failure"

ROOT_URLCONF = "consulto.urls"
ASGI_APPLICATION = "consulto.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "consulto.practice.context.staff",
                "consulto.patients.context.held_slot",
            ],
        },
    },
]

# Databases -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'consulto.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Every transaction takes the write lock at BEGIN, so a re-check inside it cannot race.
        "transaction_mode": "IMMEDIATE",
        "timeout": 10,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=10000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_consulto.sqlite3")}
    # Each HTTP request runs on a thread of a fixed pool (core/asgi_http.py): the thread's
    # connection is kept between requests rather than opened (a file and four PRAGMAs) each time.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
else:
    # A pool per process (psycopg_pool), as Django advises under ASGI: the HTTP threads
    # (core/asgi_http.py) and the WebSocket consumers' database thread share its connections,
    # which a request holds only while it runs; connections kept per thread would not be shared.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("CONSULTO_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("CONSULTO_DB_POOL_MAX", "20")),
        "timeout": 10,
    }
    options = DATABASES["default"]["OPTIONS"]
    # Parameters bound by the server, not quoted into the SQL text by psycopg in Python: about a
    # fifth less of the client's CPU per booking (bench/README.md, issue 14). Prepared statements
    # stay off (Django's default): measured, they changed neither the search nor a booking.
    options["server_side_binding"] = True
    # A misspelt name is found by trigram word similarity (directory/selectors.py): 0.6, the
    # default, misses one wrong letter inside a short name ("lefebre" for "Lefèvre" is 0.45).
    options["options"] = (
        options.get("options", "") + " -c pg_trgm.word_similarity_threshold=0.45"
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and real-time ---------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    # Redis Pub/Sub carries the channel layer: a group send is one PUBLISH, and a process's
    # group memberships are its own subscriptions, gone with it. channels_redis's original
    # layer (lists and sorted sets in Redis) held a quarter of the video rooms per worker
    # (bench/visio_signaling.py --redis: 50 against 200), dropped group messages silently once
    # a process was 100 frames behind (its ``capacity`` counts all the process's channels
    # together), and left the groups of a crashed or overloaded process in Redis for a day.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/Sub ignores Redis's database number: the prefix carries it, so that two
            # installations (or a test run and a bench) sharing one server stay apart.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"consulto{urlsplit(REDIS_URL).path.strip('/') or '0'}.",
            },
        }
    }
else:
    # One entry per (agenda state, motive, dates): the default of 300 entries would evict a
    # search's results before the next one could use them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Auth ------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # CNIL deliberation 2022-100: at least 12 characters when the password alone protects access.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # ...and about 80 bits of entropy: 12 mixed characters, or longer with fewer kinds.
    {"NAME": "consulto.core.passwords.CnilPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key"}
# The e-mail is verified by a code typed in the same page: a patient in the middle of a booking
# does not leave it (and its held slot) to click a link.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_FORMS = {
    "signup": "consulto.core.forms.ConsultoSignupForm",
    "reset_password_from_key": "consulto.core.forms.ConsultoResetPasswordKeyForm",
}
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A practitioner who has not finished signing up is taken back to their wizard after login.
ACCOUNT_ADAPTER = "consulto.onboarding.adapter.AccountAdapter"
# Account e-mails name the platform (not the host a request came by) and leave through the
# notifications outbox (the adapter's send_mail).
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{os.environ.get('CONSULTO_SITE_NAME', 'Consulto')}] "
LOGIN_REDIRECT_URL = "/"
# Staff log in with a second factor (TOTP; security keys optional). The back office refuses a
# staff member until they have set one up, and their session lapses after a quiet spell.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Consulto"
MFA_TOTP_TOLERANCE = 1  # one 30-second step of clock drift either way (RFC 6238, section 5.2)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
CONSULTO_STAFF_SESSION_MINUTES = int(os.environ.get("CONSULTO_STAFF_SESSION_MINUTES", "30"))

# Video consultations ----------------------------------------------------------------------------
# ICE servers given to browsers. None by default (loopback and local networks connect without);
# in production a coturn server with "use-auth-secret" and "static-auth-secret" equal to
# CONSULTO_TURN_SECRET: each browser gets credentials that expire after CONSULTO_TURN_TTL seconds.
CONSULTO_STUN_URLS = [u for u in os.environ.get("CONSULTO_STUN_URLS", "").split(",") if u]
CONSULTO_TURN_URLS = [u for u in os.environ.get("CONSULTO_TURN_URLS", "").split(",") if u]
CONSULTO_TURN_SECRET = os.environ.get("CONSULTO_TURN_SECRET", "")
CONSULTO_TURN_TTL = int(os.environ.get("CONSULTO_TURN_TTL", "3600"))

# Telephony: the support console calls phones through Janus's SIP plugin and a SIP trunk
# (support/telephony.py). Off when CONSULTO_JANUS_URL is empty; half a configuration is refused.
CONSULTO_JANUS_URL = os.environ.get("CONSULTO_JANUS_URL", "").rstrip("/")
CONSULTO_JANUS_API_SECRET = os.environ.get("CONSULTO_JANUS_API_SECRET", "")
CONSULTO_SIP_PROXY = os.environ.get("CONSULTO_SIP_PROXY", "")
CONSULTO_SIP_DOMAIN = os.environ.get("CONSULTO_SIP_DOMAIN", "")
CONSULTO_SIP_USERNAME = os.environ.get("CONSULTO_SIP_USERNAME", "")
CONSULTO_SIP_SECRET = os.environ.get("CONSULTO_SIP_SECRET", "")
CONSULTO_SIP_CALLER_ID = os.environ.get("CONSULTO_SIP_CALLER_ID", "")
if CONSULTO_JANUS_URL:
    _missing_telephony = [
        name
        for name in (
            "CONSULTO_JANUS_API_SECRET",
            "CONSULTO_SIP_PROXY",
            "CONSULTO_SIP_DOMAIN",
            "CONSULTO_SIP_USERNAME",
        )
        if not globals()[name]
    ]
    if _missing_telephony:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "CONSULTO_JANUS_URL is set: set " + ", ".join(_missing_telephony) + " too"
        )

# Internationalisation --------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# Static files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# Limits and security ---------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024  # API bodies are small; a huge body is refused (413/400)
HTTPS = env_flag("CONSULTO_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = os.environ.get(
    "CONSULTO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("CONSULTO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("CONSULTO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("CONSULTO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CONSULTO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_flag("CONSULTO_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10  # a stuck relay fails the attempt; the outbox retries it later
DEFAULT_FROM_EMAIL = os.environ.get("CONSULTO_FROM_EMAIL", "Consulto <no-reply@consulto.local>")

# Notifications
CONSULTO_SITE_URL = os.environ.get("CONSULTO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CONSULTO_SITE_NAME = os.environ.get("CONSULTO_SITE_NAME", "Consulto")
# The support desk's address: replies to support+<ticket>.<secret>@domain thread into the ticket.
CONSULTO_SUPPORT_ADDRESS = os.environ.get("CONSULTO_SUPPORT_ADDRESS", "support@consulto.local")
# The mailbox the support address's mail is read from (support/management/commands/
# support_mail_in.py); the password stays in the environment, read by the command only.
CONSULTO_SUPPORT_IMAP_HOST = os.environ.get("CONSULTO_SUPPORT_IMAP_HOST", "")
CONSULTO_SUPPORT_IMAP_PORT = int(os.environ.get("CONSULTO_SUPPORT_IMAP_PORT") or "993")
CONSULTO_SUPPORT_IMAP_USER = os.environ.get("CONSULTO_SUPPORT_IMAP_USER", "")
CONSULTO_SUPPORT_IMAP_SSL = env_flag("CONSULTO_SUPPORT_IMAP_SSL", True)
CONSULTO_SUPPORT_IMAP_FOLDER = os.environ.get("CONSULTO_SUPPORT_IMAP_FOLDER") or "INBOX"
CONSULTO_SUPPORT_IMAP_MOVE_TO = os.environ.get("CONSULTO_SUPPORT_IMAP_MOVE_TO", "")
CONSULTO_SUPPORT_IMAP_INTERVAL = float(os.environ.get("CONSULTO_SUPPORT_IMAP_INTERVAL") or "60")
CONSULTO_SMS_BACKEND = os.environ.get(
    "CONSULTO_SMS_BACKEND",
    "consulto.notifications.sms.ConsoleBackend"
    if DEBUG
    else "consulto.notifications.sms.FileBackend",
)

# Consulto --------------------------------------------------------------------------------------
CONSULTO_HOLD_MINUTES = int(os.environ.get("CONSULTO_HOLD_MINUTES", "7"))
# How long a slot freed for the first patient on the waiting list stays theirs.
CONSULTO_WAITLIST_HOLD_MINUTES = int(os.environ.get("CONSULTO_WAITLIST_HOLD_MINUTES", "30"))
CONSULTO_SEARCH_DAYS = 14


def _rates(name: str, default: str) -> dict[str, str]:
    """``"account=10/h,address=30/h"`` -> ``{"account": "10/h", ...}``; ``0`` means no limit."""
    found = {}
    for part in os.environ.get(name, default).split(","):
        key, _sep, rate = part.strip().partition("=")
        if key and rate.strip() not in ("", "0"):
            found[key.strip()] = rate.strip()
    return found


# What one visitor may do on the patient pages and the API (scheduling/limits.py): holds and
# bookings per account, per patient identity and per client address over a window (django-
# ratelimit's rates: 10/h, 30/10m...), and holds kept at once by one account or browser session,
# under a wider ceiling per address (many phones share one public address at a mobile operator).
CONSULTO_HOLD_LIMITS = _rates(
    "CONSULTO_HOLD_LIMITS", "account=20/10m,session=20/10m,address=60/10m"
)
CONSULTO_BOOKING_LIMITS = _rates("CONSULTO_BOOKING_LIMITS", "account=10/h,patient=5/h,address=60/h")
CONSULTO_HOLDS_AT_ONCE = int(os.environ.get("CONSULTO_HOLDS_AT_ONCE", "2"))
CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS = int(
    os.environ.get("CONSULTO_ANONYMOUS_HOLDS_PER_ADDRESS", "10")
)

# Interoperability (fhir/) -----------------------------------------------------------------------
# Partners (an organisation's software, the SAS national platform) call /fhir/r4/ with OAuth2
# client credentials (django-oauth-toolkit): a token lives an hour and carries the scopes its
# partner was granted (fhir/access.py). Each partner has its own rate per minute.
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("CONSULTO_OAUTH_TOKEN_SECONDS", "3600")),
    "SCOPES_BACKEND_CLASS": "consulto.fhir.access.PartnerScopes",
    "ALLOWED_GRANT_TYPES": ["client_credentials"],
    # RFC 9700 (OAuth 2.0 Security BCP) throughout: tokens stored hashed, only in the
    # Authorization header, no implicit or password grant, PKCE and https redirects should an
    # authorization-code client ever be added.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "PKCE_REQUIRED": True,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The SAS national platform's endpoint that receives the appointments regulators book here (the
# guide's FrAppointmentSAS create/update); empty: nothing is reported.
CONSULTO_SAS_APPOINTMENT_URL = os.environ.get("CONSULTO_SAS_APPOINTMENT_URL", "").rstrip("/")
# How long the record of each call to /fhir/r4/ (fhir.ApiCall) is kept; older ones are purged
# every day by the task worker (fhir/retention.py).
CONSULTO_API_CALL_RETENTION_DAYS = int(os.environ.get("CONSULTO_API_CALL_RETENTION_DAYS", "90"))
# The system of the identifiers we give our appointments in FHIR (the SAS guide asks for ours).
CONSULTO_FHIR_IDENTIFIER_SYSTEM = os.environ.get(
    "CONSULTO_FHIR_IDENTIFIER_SYSTEM", f"{CONSULTO_SITE_URL}/fhir/r4/identifiers"
).rstrip("/")

LOG_LEVEL = os.environ.get("CONSULTO_LOG_LEVEL", "WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The level on the handler too: libraries that raise their own logger's level (the task
    # worker logs every task it runs at INFO) stay as quiet as the rest unless asked.
    "handlers": {"console": {"class": "logging.StreamHandler", "level": LOG_LEVEL}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
