#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is first initialised (/docker-entrypoint-initdb.d), as POSTGRES_USER.
# One database per domain, owned by a role of its own that no other role may connect to: users_app owns
# scaling_users, products_app scaling_products, gateway_app scaling_gateway. POSTGRES_USER stays the
# administrator, used by no service. The same file is in deploy/k8s/postgres.yaml (tests/deploy checks).
set -euo pipefail

# All three first: a missing password stops the script before it creates anything.
: "${USERS_DB_PASSWORD:?the users_app password}" "${PRODUCTS_DB_PASSWORD:?the products_app password}" \
  "${GATEWAY_DB_PASSWORD:?the gateway_app password}"

create_domain() {
  local role="$1" database="$2" password="$3"
  # psql variables: the password is quoted by psql itself, whatever characters it holds.
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
    -v role="${role}" -v database="${database}" -v password="${password}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
}

create_domain users_app scaling_users "${USERS_DB_PASSWORD}"
create_domain products_app scaling_products "${PRODUCTS_DB_PASSWORD}"
create_domain gateway_app scaling_gateway "${GATEWAY_DB_PASSWORD}"
