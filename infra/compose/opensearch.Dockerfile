# OpenSearch 2 with the analysis-icu plugin, which Sangrah's index needs (docs/deploy.md, "Search
# cluster"; the tests' node has the same plugins, docs/services.md). Used by infra/compose.yaml.
ARG OPENSEARCH_IMAGE=opensearchproject/opensearch:2.19.6
FROM ${OPENSEARCH_IMAGE}
RUN /usr/share/opensearch/bin/opensearch-plugin install --batch analysis-icu
