"""The pipeline's steps, each idempotent, used by the CLI and the Airflow DAGs.

- ``capture``: ``harvest`` accounts into WARC files and publish them; ``verify`` them.
- ``imports``: ``import_export`` an account's own download into WARC.
- ``tables``: ``extract`` the record dataset, ``rebuild_tables``, ``retag_tables``, and its
  ``categories``: the statement of the categories of documents held (RTI s.4(1)(b)(vi)).
- ``rti``: ``rti_due`` (what the RTI cell owes, for the daily DAG), ``rti_deemed_refusals`` (recorded by it), ``render_decision_letter``.
- ``storage``: ``init_storage`` (a bucket with Object Lock), ``lock_warcs``, ``delete_warc``
  (the governed deletion), ``storage_status``; ``stores`` opens the configured store.
- ``search``: ``index`` it into the search backend, ``rebuild_index``, ``search``, ``thread``,
  and the annotations shown in search at once: ``mark``, ``place_hold``, ``release_hold``;
  ``audit_reading`` enters a search or a view in the audit log.
- ``legal_holds``: ``sync_legal_holds`` puts the WARC objects of held records under legal hold.
"""

from archiver.pipeline.capture import (
    WARC_PREFIX,
    HarvestReport,
    VerifyReport,
    harvest,
    open_catalog,
    open_store,
    recover_staging,
    verify,
)
from archiver.pipeline.imports import ImportReport, import_export
from archiver.pipeline.storage import LockReport, delete_warc, init_storage, lock_warcs, storage_status
from archiver.pipeline.stores import WarcFiles
from archiver.pipeline.search import HoldChange, audit_reading, index, index_status, mark, place_hold, rebuild_index, release_hold, search, search_all_ids, thread
from archiver.pipeline.legal_holds import LegalHoldReport, sync_legal_holds
from archiver.pipeline.tables import Capture, categories, extract, find_capture, rebuild_tables, retag_tables
from archiver.pipeline.rti import render_decision_letter, rti_deemed_refusals, rti_due, rti_rules

__all__ = [
    "WARC_PREFIX",
    "HarvestReport",
    "VerifyReport",
    "ImportReport",
    "harvest",
    "verify",
    "recover_staging",
    "open_catalog",
    "open_store",
    "import_export",
    "extract",
    "rebuild_tables",
    "retag_tables",
    "categories",
    "find_capture",
    "rti_deemed_refusals",
    "rti_due",
    "rti_rules",
    "render_decision_letter",
    "Capture",
    "WarcFiles",
    "LockReport",
    "init_storage",
    "lock_warcs",
    "delete_warc",
    "storage_status",
    "index",
    "rebuild_index",
    "index_status",
    "search",
    "search_all_ids",
    "thread",
    "mark",
    "place_hold",
    "release_hold",
    "HoldChange",
    "audit_reading",
    "LegalHoldReport",
    "sync_legal_holds",
]
