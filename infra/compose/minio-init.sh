#!/bin/sh
# First start of the compose stack's MinIO (the minio-init service, as MinIO's root user): the
# evidence bucket with Object Lock, which can be turned on only when a bucket is created, and
# Sangrah's own user with the rights of docs/deploy.md and no more (no governance bypass, no
# change to the bucket's lock). Safe to run again. The names and keys come from the environment.
set -eu
: "${SANGRAH_BUCKET:?}" "${SANGRAH_S3_ACCESS_KEY:?}" "${SANGRAH_S3_SECRET_KEY:?}"
until mc ready local >/dev/null 2>&1; do sleep 1; done
# an existing bucket is left as it is: `sangrah storage init` then refuses it if it has no lock
mc mb --ignore-existing --with-lock "local/$SANGRAH_BUCKET"
mc admin user add local "$SANGRAH_S3_ACCESS_KEY" "$SANGRAH_S3_SECRET_KEY"
mc admin policy create local sangrah-archiver /etc/sangrah/minio-policy.json
if ! mc admin user info local "$SANGRAH_S3_ACCESS_KEY" | grep -q sangrah-archiver; then
  mc admin policy attach local sangrah-archiver --user "$SANGRAH_S3_ACCESS_KEY"
fi
echo "bucket $SANGRAH_BUCKET (Object Lock) and user $SANGRAH_S3_ACCESS_KEY with the policy sangrah-archiver are ready"
