"""Search: the query model, text analysis shared by every backend, and the backends (SQLite
FTS5, OpenSearch, Elasticsearch) behind one interface. See docs/search.md."""

from archiver.search.backend import Page, SearchBackend, open_backend
from archiver.search.query import Filters, SearchRequest, parse_filters, parse_query

__all__ = ["Filters", "Page", "SearchBackend", "SearchRequest", "open_backend", "parse_filters", "parse_query"]
