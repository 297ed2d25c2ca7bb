-- Runs once, when the PostgreSQL volume is first initialised (/docker-entrypoint-initdb.d).
-- One database per domain, as ./manage_all.sh setup creates them locally; POSTGRES_USER owns all three.
CREATE DATABASE scaling_users;
CREATE DATABASE scaling_products;
CREATE DATABASE scaling_gateway;
