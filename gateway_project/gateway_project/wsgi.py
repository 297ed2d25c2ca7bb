"""WSGI entry point for gunicorn: Django, behind the page-cache fast path."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")

django_application = get_wsgi_application()

# Page-cache hits of the aggregate are answered before Django's request machinery; imported only now,
# because it needs the app registry that get_wsgi_application() has just loaded.
from pagecache.fastpath import FastPathApplication  # noqa: E402

application = FastPathApplication(django_application)
