"""The floor: the least Django can do per request (no apps, no middleware, no database)."""

import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "floor_project.urls"
WSGI_APPLICATION = "floor_project.wsgi.application"
DATABASES: dict = {}
USE_TZ = True
LOGGING_CONFIG = None
