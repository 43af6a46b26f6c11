# Airflow 3.3.2 with Sangrah installed from this checkout, pinned by the project's constraints
# (docs/deploy.md, "Install, with the project's constraints"). Used by infra/compose.yaml.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root . /opt/sangrah/src
RUN pip install --no-cache-dir -c /opt/sangrah/src/infra/constraints/airflow-3.3.2-py3.11.txt \
      "/opt/sangrah/src[airflow,postgres]" apache-airflow-providers-celery
