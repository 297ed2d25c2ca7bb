"""Settings of the product service: the services' shared settings (svc_common.settings.service), named for it."""

from pathlib import Path

from svc_common.settings.service import *  # noqa: F403
from svc_common.settings.service import named, schema

BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "product_project.urls"
WSGI_APPLICATION = "product_project.wsgi.application"
INSTALLED_APPS, DATABASES, CACHES, STATIC_ROOT, IDEMPOTENCY_RECORD_MODEL = named("products", BASE_DIR)
SPECTACULAR_SETTINGS = schema(title="Product service API", description="The product catalogue.")
