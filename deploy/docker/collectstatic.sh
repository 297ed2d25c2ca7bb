#!/usr/bin/env bash
# Build-time only (Dockerfile): collect the three projects' static files into DJANGO_STATIC_ROOT.
set -euo pipefail

readonly APP_HOME="${APP_HOME:-/app}"
readonly PROJECTS=(user_project product_project gateway_project)

random_secret() {
  python -c 'import secrets; print(secrets.token_urlsafe(50))'
}

main() {
  if [[ -z "${DJANGO_STATIC_ROOT:-}" ]]; then
    echo "collectstatic.sh: DJANGO_STATIC_ROOT is not set" >&2
    exit 2
  fi
  # Throwaway values that only satisfy the settings' checks; no container ever sees them.
  DJANGO_SECRET_KEY="$(random_secret)"
  SERVICE_AUTH_TOKEN="$(random_secret)"
  export DJANGO_SECRET_KEY SERVICE_AUTH_TOKEN
  local project
  for project in "${PROJECTS[@]}"; do
    python "${APP_HOME}/${project}/manage.py" collectstatic --noinput --verbosity 0
  done
}

main "$@"
