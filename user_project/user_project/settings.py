"""Settings of the user service: the services' shared settings (svc_common.settings.service), named for it."""

from pathlib import Path

from svc_common.settings.service import *  # noqa: F403
from svc_common.settings.service import named, schema

BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "user_project.urls"
WSGI_APPLICATION = "user_project.wsgi.application"
INSTALLED_APPS, DATABASES, CACHES, STATIC_ROOT, IDEMPOTENCY_RECORD_MODEL = named("users", BASE_DIR)
SPECTACULAR_SETTINGS = schema(title="User service API", description="Profiles of API users.")
