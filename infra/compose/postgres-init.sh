#!/bin/sh
# First start of the compose stack's PostgreSQL: one database for Airflow's metadata, one for the
# Sangrah catalog, each with its own role; the passwords come from the environment (.env).
set -eu
psql -v ON_ERROR_STOP=1 -U postgres <<SQL
CREATE ROLE airflow LOGIN PASSWORD '${AIRFLOW_DB_PASSWORD}';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE sangrah LOGIN PASSWORD '${SANGRAH_DB_PASSWORD}';
CREATE DATABASE sangrah OWNER sangrah;
SQL
