# Airflow 3.3.2 with Sangrah installed from this checkout, pinned by the project's constraints
# (docs/deploy.md, "Install, with the project's constraints"). Used by infra/compose.yaml.
#
# The Celery provider and what it brings (celery, kombu, redis, flower, ...) are not in the
# constraints file: it is frozen from the test virtualenv, which has no Celery executor. The
# provider is pinned here; pip resolved it and its dependencies against the constraints file
# without moving any pinned package (docs/deploy.md, "The compose stack").
FROM apache/airflow:3.3.2-python3.11
USER root
# the named volume sangrah-data takes this directory's owner the first time it is mounted
RUN mkdir -p /var/lib/sangrah && chown airflow:root /var/lib/sangrah
USER airflow
COPY --chown=airflow:root . /opt/sangrah/src
RUN pip install --no-cache-dir -c /opt/sangrah/src/infra/constraints/airflow-3.3.2-py3.11.txt \
      "/opt/sangrah/src[airflow,postgres,s3,clusters]" apache-airflow-providers-celery==3.26.0
