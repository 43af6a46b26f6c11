"""Each public module names its public API in ``__all__``, and every name there exists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "archiver",
    "archiver.errors",
    "archiver.model",
    "archiver.config",
    "archiver.configfile",
    "archiver.http",
    "archiver.harvest",
    "archiver.pipeline",
    "archiver.pipeline.capture",
    "archiver.pipeline.imports",
    "archiver.pipeline.tables",
    "archiver.pipeline.rti",
    "archiver.pipeline.steps",
    "archiver.pipeline.tasks",
    "archiver.pipeline.storage",
    "archiver.pipeline.stores",
    "archiver.pipeline.search",
    "archiver.pipeline.checks",
    "archiver.pipeline.search_checks",
    "archiver.pipeline.legal_holds",
    "archiver.search",
    "archiver.search.analysis",
    "archiver.search.translit",
    "archiver.search.query",
    "archiver.search.snippets",
    "archiver.search.rules",
    "archiver.search.documents",
    "archiver.search.backend",
    "archiver.search.fts5",
    "archiver.search.lucene",
    "archiver.search.opensearch",
    "archiver.search.elasticsearch",
    "archiver.catalog.annotations",
    "archiver.catalog.legal_holds",
    "archiver.catalog",
    "archiver.catalog.audit",
    "archiver.catalog.access_tables",
    "archiver.catalog.rti_tables",
    "archiver.catalog.rti_review_tables",
    "archiver.datafile",
    "archiver.access",
    "archiver.access.roles",
    "archiver.access.users",
    "archiver.access.credentials",
    "archiver.rti",
    "archiver.rti.timelines",
    "archiver.rti.deadlines",
    "archiver.rti.fees",
    "archiver.rti.request",
    "archiver.rti.case",
    "archiver.rti.states",
    "archiver.rti.holds",
    "archiver.rti.register",
    "archiver.rti.letters",
    "archiver.rti.notices",
    "archiver.rti.due",
    "archiver.storage",
    "archiver.storage.base",
    "archiver.storage.local",
    "archiver.storage.s3",
    "archiver.storage.s3errors",
    "archiver.capture",
    "archiver.capture.writer",
    "archiver.capture.reader",
    "archiver.capture.redact",
    "archiver.platforms",
    "archiver.platforms.x",
    "archiver.platforms.facebook",
    "archiver.platforms.instagram",
    "archiver.platforms.youtube",
    "archiver.platforms.mastodon",
    "archiver.platforms.bluesky",
    "archiver.platforms.exports",
    "archiver.platforms.fields",
    "archiver.platforms.text",
    "archiver.tables",
    "archiver.tables.schema",
    "archiver.tables.rows",
    "archiver.tables.extract",
    "archiver.tables.pages",
    "archiver.tables.media",
    "archiver.tables.chunk",
    "archiver.tables.latest",
    "archiver.tables.workers",
    "archiver.tables.parse_worker",
    "archiver.tables.retag",
    "archiver.tables.categories",
    "archiver.retention",
    "archiver.retention.schedule",
    "archiver.rti.patterns",
    "archiver.rti.review",
    "archiver.rti.redact",
    "archiver.rti.threads",
    "archiver.rti.scope",
    "archiver.rti.review_catalog",
    "archiver.rti.disclose",
    "archiver.rti.package",
    "archiver.rti.package.bag",
    "archiver.rti.package.build",
    "archiver.rti.package.certificate",
    "archiver.rti.package.evidence",
    "archiver.rti.package.html",
    "archiver.rti.package.pdf",
    "archiver.rti.package.records",
    "archiver.rti.package.signing",
    "archiver.rti.package.verifier",
    "archiver.rti.package.view",
    "archiver.rti.package.wacz",
    "archiver.samples",
    "archiver.samples.world",
    "archiver.samples.server",
    "archiver.samples.accounts",
    "archiver.samples.rti_demo",
    "archiver.cli",
    "archiver.cli._base",
    "archiver.cli.capture",
    "archiver.cli.tables",
    "archiver.cli.catalogue",
    "archiver.cli.storage",
    "archiver.cli.samples",
    "archiver.cli._access",
    "archiver.cli.rti",
    "archiver.cli.rti_notices",
    "archiver.cli.rti_changes",
    "archiver.cli.rti_hold",
    "archiver.cli.rti_review",
    "archiver.cli.rti_package",
    "archiver.cli.users",
    "archiver.cli.audit",
    "archiver.cli.search",
    "archiver.cli.config",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("archiver.platforms.") and m.rsplit(".", 1)[1] in ("x", "facebook", "instagram", "youtube", "mastodon", "bluesky")])
def test_platform_modules_keep_the_contract(name: str) -> None:
    module = importlib.import_module(name)
    for attribute in ("NAME", "AUTH", "DEFAULT_BASE_URL", "LISTING_ENDPOINTS", "first_requests", "parse_page"):
        assert attribute in module.__all__, f"{name} does not export {attribute}"
    assert module.NAME == name.rsplit(".", 1)[1]


def test_every_error_class_is_exported_and_derives_from_the_base() -> None:
    from archiver import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ArchiverError)
