"""ASGI entry point (gunicorn with the uvicorn worker): the access step on the event loop, Django for the rest."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_project.settings")

django_application = get_wsgi_application()

# Imported only now: the application needs the app registry that get_wsgi_application() has just loaded.
from gateway_project.application import GatewayApplication  # noqa: E402

application = GatewayApplication(django_application, threads=settings.DJANGO_THREADS)
