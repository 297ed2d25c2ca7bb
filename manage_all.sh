#!/usr/bin/env bash
# One entry point for people: bootstraps the virtualenv, then hands over to deploy/stackctl (Python).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly ROOT
readonly VENV_DIR="${VENV_DIR:-${ROOT}/.venv}"
readonly PYTHON="${PYTHON:-python3}"
readonly STAMP="${VENV_DIR}/.requirements.sha256"
# checkov (tests/deploy/test_checkov.py) pins packages older than dev.txt's: its own virtualenv, kept between runs.
CHECKOV_VENV="${CHECKOV_VENV:-${ROOT}/.venv-checkov}"
export CHECKOV_VENV
readonly CHECKOV_VENV

usage() {
  cat <<USAGE
Usage: ./manage_all.sh <command> [options]

Commands:
  setup                    virtualenv, pinned requirements, databases, migrations, demo data
  up [--replicas N] [--gateway-replicas M] [--direct]
                           start everything in the background and wait until it is ready
                           (HAProxy on :8000/:8001/:8002 in front of N users/products and M gateway replicas)
  down                     stop everything 'up' started
  status                   one line per process, with its HAProxy state
  logs [name] [-n N]       follow the JSON logs (all, or e.g. 'gateway', 'users-2', 'haproxy')
  test [--suite S] [-- pytest args]
                           run every test suite (user, product, gateway, deploy, bench, e2e)
  openapi                  regenerate the OpenAPI documents from the code: docs/openapi/users.yaml,
                           products.yaml, then the gateway's contract gateway_project/apidocs/gateway.yaml
  scale <service> N        add or remove replicas of users, products or gateway while running
  rollout <service> [--replica I]
                           restart every replica of a service (or replica I), one at a time, with no failed request
  reload                   reload HAProxy's configuration without dropping a connection
  drill [--quick] [--with-database] [--read-ids LOW-HIGH]
                           break the running stack in turn under load (kills, rollout, scale, reloads, Redis
                           and, with --with-database, PostgreSQL restarts); report in var/drill/<run>/
  token <username> [--rate N/period | --unlimited]
                           print only a fresh API token for that API client (created if needed)
  manage <service> <args>  run manage.py of users, products or gateway with the stack's environment
                           (e.g. ./manage_all.sh manage products createsuperuser)
  bench [--quick]          benchmark the system against the seed's Flask apps; writes bench/results/

Environment: see the configuration table in README.md (ports, database and Redis URLs, replica ports).
USAGE
}

err() {
  echo "manage_all.sh: $*" >&2
}

requirements_hash() {
  cat "${ROOT}/requirements/base.txt" "${ROOT}/requirements/dev.txt" \
    "${ROOT}/libs/svc_common/pyproject.toml" | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  if [[ ! -x "${VENV_DIR}/bin/python" ]]; then
    echo "Creating the virtualenv in ${VENV_DIR}"
    "${PYTHON}" -m venv "${VENV_DIR}"
  fi
  local wanted
  wanted="$(requirements_hash)"
  if [[ ! -f "${STAMP}" || "$(cat "${STAMP}")" != "${wanted}" ]]; then
    echo "Installing pinned requirements"
    "${VENV_DIR}/bin/pip" install --quiet --disable-pip-version-check \
      -r "${ROOT}/requirements/base.txt" -r "${ROOT}/requirements/dev.txt" \
      -e "${ROOT}/libs/svc_common"
    echo "${wanted}" >"${STAMP}"
  fi
}

ensure_checkov_venv() {
  local wanted
  wanted="$(sha256sum "${ROOT}/requirements/checkov.txt" | cut -d' ' -f1)"
  if [[ ! -f "${CHECKOV_VENV}/.requirements.sha256" || "$(cat "${CHECKOV_VENV}/.requirements.sha256")" != "${wanted}" ]]; then
    echo "Installing checkov's pinned requirements in ${CHECKOV_VENV}"
    "${PYTHON}" -m venv --clear "${CHECKOV_VENV}"
    "${CHECKOV_VENV}/bin/pip" install --quiet --disable-pip-version-check --no-deps \
      -r "${ROOT}/requirements/checkov.txt"
    echo "${wanted}" >"${CHECKOV_VENV}/.requirements.sha256"
  fi
}

run_bench() {
  PYTHONPATH="${ROOT}:${ROOT}/deploy${PYTHONPATH:+:${PYTHONPATH}}" exec "${VENV_DIR}/bin/python" -m bench "$@"
}

stackctl() {
  PYTHONPATH="${ROOT}/deploy${PYTHONPATH:+:${PYTHONPATH}}" exec "${VENV_DIR}/bin/python" -m stackctl "$@"
}

main() {
  local command="${1:-}"
  case "${command}" in
    test)
      ensure_venv
      ensure_checkov_venv
      stackctl "$@"
      ;;
    setup | up | down | status | logs | openapi | token | scale | rollout | reload | drill | manage)
      ensure_venv
      stackctl "$@"
      ;;
    bench)
      shift
      ensure_venv
      run_bench "$@"
      ;;
    -h | --help | help)
      usage
      ;;
    "")
      usage >&2
      exit 2
      ;;
    *)
      err "unknown command: ${command}"
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
