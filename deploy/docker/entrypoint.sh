#!/usr/bin/env bash
# Entry point of the one image for the three projects: SERVICE=users|products|gateway picks the project.
# The same settings modules, environment names and gunicorn config as ./manage_all.sh up.
set -euo pipefail

readonly APP_HOME="${APP_HOME:-/app}"
readonly DBCTL="${APP_HOME}/deploy/docker/dbctl.py"
readonly GUNICORN_CONFIG="${APP_HOME}/deploy/gunicorn.conf.py"

usage() {
  cat <<USAGE
Usage: entrypoint.sh [command] [args...]      with SERVICE=users|products|gateway

Commands:
  serve              wait for the database (DB_WAIT_TIMEOUT s, default 60), run 'migrate' first when
                     MIGRATE_ON_START=true, then exec gunicorn with deploy/gunicorn.conf.py (the default)
  migrate            wait for the database, then manage.py migrate under a PostgreSQL advisory lock:
                     concurrent runs wait for each other and the later ones find nothing to do
  await-migrations   wait until the database is reachable and fully migrated (a Kubernetes init container)
  manage ARGS...     manage.py of the project, e.g. 'manage createsuperuser'
  help               this text
  anything else      run as is (for example 'bash' to look around)
USAGE
}

err() {
  echo "entrypoint: $*" >&2
}

project_for() {
  case "$1" in
    users) echo "user_project" ;;
    products) echo "product_project" ;;
    gateway) echo "gateway_project" ;;
    *) return 1 ;;
  esac
}

# Which entry point gunicorn serves; deploy/gunicorn.conf.py picks the worker class from it. The
# gateway runs its access step on the uvicorn worker's event loop (gateway_project/asgi.py).
interface_for() {
  case "$1" in
    gateway) echo "asgi" ;;
    *) echo "wsgi" ;;
  esac
}

main() {
  local command="${1:-serve}"
  if [[ $# -gt 0 ]]; then
    shift
  fi
  case "${command}" in
    -h | --help | help)
      usage
      return 0
      ;;
  esac

  local project
  if ! project="$(project_for "${SERVICE:-}")"; then
    err "SERVICE must be users, products or gateway, not '${SERVICE:-}'"
    usage >&2
    exit 2
  fi
  export DJANGO_SETTINGS_MODULE="${project}.settings"
  export PYTHONPATH="${APP_HOME}/${project}${PYTHONPATH:+:${PYTHONPATH}}"
  export GUNICORN_PROC_NAME="${GUNICORN_PROC_NAME:-${SERVICE}}"
  GUNICORN_INTERFACE="$(interface_for "${SERVICE}")"
  export GUNICORN_INTERFACE
  cd "${APP_HOME}/${project}"
  if [[ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]]; then
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
  fi

  case "${command}" in
    serve)
      # A database still down after the wait is not fatal here: /readyz answers 503 until it is back.
      python "${DBCTL}" wait --timeout "${DB_WAIT_TIMEOUT:-60}" || err "starting without the database"
      if [[ "${MIGRATE_ON_START:-false}" == "true" ]]; then
        python "${DBCTL}" migrate
      fi
      # prometheus_client's multiprocess files describe this replica's workers only: start empty.
      if [[ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]]; then
        find "${PROMETHEUS_MULTIPROC_DIR}" -mindepth 1 -delete
      fi
      # exec: gunicorn becomes PID 1 and receives SIGTERM itself, for a graceful shutdown.
      exec gunicorn --config "${GUNICORN_CONFIG}" --worker-tmp-dir /dev/shm "${project}.${GUNICORN_INTERFACE}:application" "$@"
      ;;
    migrate)
      python "${DBCTL}" wait --timeout "${DB_WAIT_TIMEOUT:-60}"
      exec python "${DBCTL}" migrate
      ;;
    await-migrations)
      exec python "${DBCTL}" await-migrations --timeout "${MIGRATION_WAIT_TIMEOUT:-600}"
      ;;
    manage)
      exec python manage.py "$@"
      ;;
    *)
      exec "${command}" "$@"
      ;;
  esac
}

main "$@"
