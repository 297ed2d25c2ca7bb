# syntax=docker/dockerfile:1
# One image for the user, product and gateway services; SERVICE=users|products|gateway picks the project.
#   docker build -t registry.example.com/scaling-app:1.4.0 .
#   docker run --rm -e SERVICE=users -e DJANGO_SECRET_KEY=... -e DATABASE_URL=... registry.example.com/scaling-app:1.4.0
# See docs/deploy.md. The entry point is deploy/docker/entrypoint.sh (serve, migrate, await-migrations).

# A version and its digest, so two builds of one commit start from the same bytes; bump both together.
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

# ---- build: a virtualenv holding the pinned runtime requirements and the shared package ----
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:${PATH}

RUN python -m venv /opt/venv
# Every wheel in base.txt is a binary wheel (psycopg2-binary included): no compiler in this stage.
COPY requirements/base.txt /build/requirements/base.txt
RUN pip install --no-cache-dir -r /build/requirements/base.txt
COPY libs/svc_common /build/libs/svc_common
RUN pip install --no-cache-dir --no-deps /build/libs/svc_common

# ---- runtime: the virtualenv, the three projects and nothing else, run as a non-root user ----
FROM ${PYTHON_IMAGE} AS runtime

ARG APP_UID=10001
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_HOME=/app \
    DJANGO_STATIC_ROOT=/app/static \
    GUNICORN_BIND=0.0.0.0:8000

RUN groupadd --system --gid "${APP_UID}" app \
    && useradd --system --uid "${APP_UID}" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
COPY deploy/docker deploy/docker
COPY user_project user_project
COPY product_project product_project
COPY gateway_project gateway_project

# Admin and browsable-API assets, collected at build time into DJANGO_STATIC_ROOT (the three projects
# share them). Bytecode is compiled here because the root filesystem is read-only at run time.
RUN /app/deploy/docker/collectstatic.sh \
    && python -m compileall -q /app

# Files stay root-owned and read-only for the app user.
USER ${APP_UID}:${APP_UID}
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["serve"]
