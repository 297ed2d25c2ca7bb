"""ASGI entry point for gunicorn's asgi worker: page-cache hits on the event loop, Django for the rest."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")

django_application = get_wsgi_application()

# Imported only now: the fast path needs the app registry that get_wsgi_application() has just loaded.
from pagecache.asyncpath import AsyncFastPathApplication  # noqa: E402

application = AsyncFastPathApplication(django_application)
