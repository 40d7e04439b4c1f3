#!/bin/sh
# Docker secrets (files in /run/secrets) become environment variables of the same name in upper case
# (dagster_pg_password -> DAGSTER_PG_PASSWORD), so dagster.yaml's `env:` and the resources' EnvVar
# read them; the values never appear in compose.yaml or `docker inspect` of these services.
set -eu
if [ -d /run/secrets ]; then
  for file in /run/secrets/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    case "$name" in
      *[!a-z0-9_]*) continue ;;
    esac
    export "$(echo "$name" | tr 'a-z' 'A-Z')=$(cat "$file")"
  done
fi
exec "$@"
