"""The audit log's hash chain: intact when written by Sangrah, broken where someone with the file
changed it (the append-only triggers dropped first, as an attacker would), and the entries of a
catalog from before the chain chained by the migration. Entries cut off the end leave a chain with
no break: only a head written down earlier (``ChainHead``, ``sangrah audit head``) shows them.

Every test runs on SQLite and on PostgreSQL (the ``catalog_url`` fixture, and ``staffed`` for the
commands), where writers queue for the chain's head in different ways (``append_entry``)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from archiver.catalog import Catalog
from archiver.catalog import tables as t
from archiver.catalog.audit import GENESIS, ChainHead, entry_hash, iter_entries, verify_chain
from archiver.config import Config
from archiver.rti.deadlines import format_instant
from tests.rti_fixtures import run

pytestmark = pytest.mark.both_catalogs


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(catalog_url)
    cat.migrate()
    yield cat
    cat.close()


def _fill(catalog: Catalog, count: int = 5) -> None:
    for n in range(count):
        catalog.audit(actor="records-cell", action="harvest_start", target=f"h{n}", outcome="ok", details={"accounts": [f"x:{n}"], "n": n})


def _tamper(url: str, *statements: str) -> None:
    """What an attacker with the database's owner rights does: drop the append-only triggers
    (migration 0001: two on SQLite, one on PostgreSQL), change the rows."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_log_append_only ON audit_log")
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_entries_chain_from_the_genesis(catalog: Catalog) -> None:
    _fill(catalog, 3)
    entries = list(iter_entries(catalog.engine))
    assert [e.id for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    first = entries[0]
    assert first.entry_hash == entry_hash(GENESIS, id=1, at=first.at, actor="records-cell", action="harvest_start", target="h0", outcome="ok", details={"accounts": ["x:0"], "n": 0})
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries, report.head_id, report.head_hash) == (True, 3, 3, entries[2].entry_hash)


def test_an_altered_entry_is_named(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    catalog.close()
    _tamper(catalog_url, "UPDATE audit_log SET outcome = 'failed' WHERE id = 3")
    report = verify_chain(catalog.engine)
    assert (report.intact, report.broken_id, report.head_id) == (False, 3, 2)
    assert report.problem is not None and report.problem.startswith("entry 3 (harvest_start by records-cell at ")
    assert report.problem.endswith("no longer matches its hash: it was changed after it was written")


def test_an_altered_entry_with_its_hash_recomputed_breaks_the_next_link(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    entry = next(e for e in iter_entries(catalog.engine) if e.id == 2)
    forged = entry_hash(entry.prev_hash or "", id=2, at=entry.at, actor="someone-else", action=entry.action, target=entry.target, outcome=entry.outcome, details=entry.details)
    catalog.close()
    _tamper(catalog_url, f"UPDATE audit_log SET actor = 'someone-else', entry_hash = '{forged}' WHERE id = 2")
    report = verify_chain(catalog.engine)
    assert report.broken_id == 3
    assert report.problem is not None and report.problem.endswith("does not chain to entry 2: an entry before it was changed, removed or inserted")


def test_a_removed_entry_is_named(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    catalog.close()
    _tamper(catalog_url, "DELETE FROM audit_log WHERE id = 2")
    report = verify_chain(catalog.engine)
    assert report.broken_id == 3
    assert report.problem is not None and "follows entry 1: entry 2 is missing (removed from the log)" in report.problem


def test_a_head_written_down_is_found_after_more_entries(catalog: Catalog) -> None:
    _fill(catalog)
    head = verify_chain(catalog.engine).head
    assert head is not None and head.id == 5 and str(head) == f"5:{head.hash}"
    _fill(catalog, 3)
    report = verify_chain(catalog.engine, anchor=head)
    assert (report.intact, report.head_id) == (True, 8)
    assert report.anchor is not None and (report.anchor.found, report.anchor.found_id, report.anchor.problem) == (True, 5, None)
    by_hash = verify_chain(catalog.engine, anchor=ChainHead(head.hash)).anchor
    assert by_hash is not None and (by_hash.found, by_hash.found_id) == (True, 5)


def test_entries_cut_off_the_end_leave_the_chain_intact_but_not_the_head(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog, 8)
    head = verify_chain(catalog.engine).head
    assert head is not None
    catalog.close()
    _tamper(catalog_url, "DELETE FROM audit_log WHERE id > 5")
    plain = verify_chain(catalog.engine)
    # this is why a head is written down: without it, a log cut short is a log in good order
    assert (plain.intact, plain.entries, plain.head_id, plain.anchor) == (True, 5, 5, None)
    anchored = verify_chain(catalog.engine, anchor=head)
    assert anchored.intact and anchored.anchor is not None and not anchored.anchor.found and anchored.anchor.found_id is None
    problem = anchored.anchor.problem or ""
    assert problem.startswith("the log ends at entry 5 (harvest_start by records-cell at ")
    assert problem.endswith(
        "), but the head written down was entry 8: entries 6 to 8 are missing, cut off the end of the log (or the whole log replaced by a shorter one). "
        "The chain shows no break for this by itself. Keep the catalog file as it is and tell the records officer (PRA s.7)."
    )
    by_hash = verify_chain(catalog.engine, anchor=ChainHead(head.hash)).anchor
    assert by_hash is not None and (by_hash.problem or "").startswith(f"no entry has the hash written down ({head.hash}), and the log ends at entry 5 (")


def test_a_log_rewritten_with_new_hashes_does_not_hold_the_head(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    head = verify_chain(catalog.engine).head
    assert head is not None
    catalog.close()
    _tamper(catalog_url, "DELETE FROM audit_log WHERE id > 2")
    for n in range(3):
        catalog.audit(actor="someone-else", action="harvest_start", target=f"h{n}", outcome="ok")
    report = verify_chain(catalog.engine, anchor=head)
    assert (report.intact, report.entries) == (True, 5)
    assert report.anchor is not None and report.anchor.problem is not None
    assert report.anchor.problem.startswith("entry 5 (harvest_start by someone-else at ")
    assert f"has the hash {report.head_hash}, not the {head.hash} written down: the log was rewritten up to that entry" in report.anchor.problem


def test_a_head_with_a_wrong_number_names_the_entry_of_its_hash(catalog: Catalog) -> None:
    _fill(catalog)
    head = verify_chain(catalog.engine).head
    assert head is not None
    check = verify_chain(catalog.engine, anchor=ChainHead(head.hash, 4)).anchor
    assert check is not None and check.problem == (
        f"the hash written down is that of entry 5, not of entry 4: the entry number was copied wrong. "
        f"Check it against the record, then run: sangrah audit verify --head 5:{head.hash}"
    )


def test_a_head_past_a_break_cannot_be_confirmed(catalog: Catalog, catalog_url: str) -> None:
    _fill(catalog)
    early, late = (ChainHead(e.entry_hash or "", e.id) for e in iter_entries(catalog.engine) if e.id in (2, 5))
    catalog.close()
    _tamper(catalog_url, "UPDATE audit_log SET outcome = 'failed' WHERE id = 3")
    before = verify_chain(catalog.engine, anchor=early)
    assert before.broken_id == 3 and before.anchor is not None and before.anchor.found
    after = verify_chain(catalog.engine, anchor=late)
    assert after.anchor is not None and after.anchor.problem == (
        f"the head written down (5:{late.hash}) is not among the entries before the break at entry 3, so it cannot be confirmed. "
        "Keep the catalog file as it is and tell the records officer (PRA s.7)."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12:" + "g" * 64, "a hash is written with the digits 0-9 and the letters a-f only"),
        ("12:" + "ab" * 31, "a hash has 64 digits, this one 62"),
        ("twelve:" + "ab" * 32, "the part before ':' must be the entry number, e.g. 1204:403b…"),
        ("0:" + "ab" * 32, "entries are numbered from 1"),
    ],
)
def test_a_head_that_is_not_one_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(repr(text))}: {re.escape(message)}$"):
        ChainHead.parse(text)


def test_a_head_is_read_as_copied_from_a_letter() -> None:
    assert ChainHead.parse(f"  12:{'AB' * 32} ") == ChainHead("ab" * 32, 12)
    assert ChainHead.parse("ab" * 32) == ChainHead("ab" * 32, None)
    assert str(ChainHead("ab" * 32, 12)) == f"12:{'ab' * 32}" and str(ChainHead("ab" * 32)) == "ab" * 32


def test_sangrah_audit_verify_exits_1_naming_the_entry(staffed: Catalog, rti_config: Config, rti_config_file: Path) -> None:
    ok = run(rti_config_file, "auditor", "audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("checked 7 audit entries: the chain is intact; head entry 7, ")
    staffed.close()
    _tamper(staffed.url, "UPDATE audit_log SET details = '{\"roles\": [\"administrator\", \"pio\"]}' WHERE id = 2")
    broken = run(rti_config_file, "auditor", "audit", "verify")
    assert broken.exit_code == 1
    assert broken.stdout.startswith("BROKEN at entry 2: entry 2 (users_add by admin at ")
    assert "no longer matches its hash: it was changed after it was written\nthe chain holds up to entry 1; entries from 2 on cannot be trusted." in broken.stdout
    as_json = run(rti_config_file, "auditor", "audit", "verify", "--json")
    assert as_json.exit_code == 1 and '"intact":false,"head_id":1' in as_json.stdout and '"broken_id":2' in as_json.stdout


def test_sangrah_audit_head_is_checked_later_by_verify_head(staffed: Catalog, rti_config_file: Path) -> None:
    seventh = [e for e in iter_entries(staffed.engine) if e.id == 7][0]
    taken = run(rti_config_file, "records", "audit", "head")
    assert taken.exit_code == 0, taken.output
    assert taken.stdout == (
        f"audit log head: entry 7 of 7, entered {format_instant(seventh.at)}\n"
        f"hash: {seventh.entry_hash}\n"
        f"check later with: sangrah audit verify --head 7:{seventh.entry_hash}\n"
    )
    head = f"7:{seventh.entry_hash}"
    as_json = json.loads(run(rti_config_file, "auditor", "audit", "head", "--json").stdout)
    # the first audit head entered itself as entry 8
    assert (as_json["entries"], as_json["head_id"], as_json["head"]) == (8, 8, f"8:{as_json['head_hash']}")
    held = run(rti_config_file, "auditor", "audit", "verify", "--head", head)
    assert held.exit_code == 0, held.output
    assert held.stdout.endswith("\nthe head written down, entry 7, is still in the chain at its place; 2 entries chain on from it\n")

    staffed.close()
    _tamper(staffed.url, "DELETE FROM audit_log WHERE id > 5")
    cut = run(rti_config_file, "auditor", "audit", "verify", "--head", head)
    assert cut.exit_code == 1
    lines = cut.stdout.splitlines()
    assert lines[0] == f"checked 5 audit entries: the chain is intact; head entry 5, {[e for e in iter_entries(staffed.engine) if e.id == 5][0].entry_hash}"
    assert lines[1].startswith("HEAD NOT FOUND: the log ends at entry 5 (users_add by admin at ")
    assert "), but the head written down was entry 7: entries 6 to 7 are missing, cut off the end of the log" in lines[1]
    assert lines[1].endswith("Keep the catalog file as it is and tell the records officer (PRA s.7).")
    plain = run(rti_config_file, "auditor", "audit", "verify")
    assert plain.exit_code == 0 and plain.stdout.startswith("checked 6 audit entries: the chain is intact; head entry 6, ")
    # the log has grown back past entry 7, but its entry 7 is not the one written down
    grown = run(rti_config_file, "auditor", "audit", "verify", "--head", head, "--json")
    assert grown.exit_code == 1
    anchor = json.loads(grown.stdout)["anchor"]
    assert (anchor["id"], anchor["hash"], anchor["found"], anchor["found_id"]) == (7, seventh.entry_hash, False, None)
    assert anchor["problem"].startswith("entry 7 (audit_verify by auditor at ") and f"not the {seventh.entry_hash} written down" in anchor["problem"]
    entered = [(e.id, e.outcome, e.details) for e in iter_entries(staffed.engine, action="audit_verify")]
    assert entered[-3:] == [
        (6, "broken", {"entries": 5, "broken": None, "head": head, "head_found": False}),
        (7, "ok", {"entries": 6, "broken": None}),
        (8, "broken", {"entries": 7, "broken": None, "head": head, "head_found": False}),
    ]


def test_audit_verify_head_refuses_what_is_not_a_head(staffed: Catalog, rti_config_file: Path) -> None:
    typo = run(rti_config_file, "auditor", "audit", "verify", "--head", "7:403b159be8a84eac22d48c710eab20ca80d5c7982649e1fe869b0a64e6c4950")
    assert typo.exit_code == 2
    assert (
        "Invalid value for '--head': '7:403b159be8a84eac22d48c710eab20ca80d5c7982649e1fe869b0a64e6c4950': a hash has 64 digits, this one 63. "
        "Give the head as sangrah audit head prints it, SEQ:HASH, or the hash alone."
    ) in " ".join(typo.stderr.split())
    wrong = run(rti_config_file, "auditor", "audit", "verify", "--head", f"7:{'0' * 64}")
    assert wrong.exit_code == 1
    assert wrong.stdout.splitlines()[1].startswith("HEAD NOT FOUND: entry 7 (users_add by admin at ")
    assert f"not the {'0' * 64} written down: the log was rewritten up to that entry with its hashes computed again, or the hash was copied wrong." in wrong.stdout
    refused = run(rti_config_file, "cpio", "audit", "head")
    assert refused.exit_code == 1 and "audit head needs the role administrator or auditor or records_officer; 'cpio' holds pio" in refused.stderr


def test_audit_list_filters_and_needs_the_role(staffed: Catalog, rti_config_file: Path) -> None:
    listed = run(rti_config_file, "auditor", "audit", "list", "--action", "users_*", "--json")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 7 and '"action":"users_bootstrap"' in lines[0] and '"target":"responder"' in lines[-1]
    refused = run(rti_config_file, "cpio", "audit", "list")
    assert refused.exit_code == 1
    assert "audit list needs the role administrator or auditor; 'cpio' holds pio (R17" in refused.stderr
    mine = run(rti_config_file, "auditor", "audit", "list", "--actor", "cpio", "--json")
    assert [line for line in mine.stdout.splitlines() if '"outcome":"refused"' in line and '"action":"audit_list"' in line]


def test_the_migration_chains_the_entries_written_before_it(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(Path(__file__).resolve().parents[1] / "archiver" / "catalog" / "migrations"))
    with catalog.engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0002")
    with catalog.engine.begin() as connection:
        for n in range(3):
            # only the columns revision 0002 has: no hashes yet
            at = datetime(2026, 11, 20 + n, 10, tzinfo=timezone.utc)
            connection.execute(insert(t.audit_log).values(at=at, actor="records-cell", action="harvest_start", target=f"h{n}", outcome="ok", details={"n": n}))
    catalog.migrate()
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries) == (True, 3)
    catalog.audit(actor="records-cell", action="harvest_start", target="h3", outcome="ok")
    assert verify_chain(catalog.engine).entries == 4
    with pytest.raises(Exception, match="append-only"), catalog.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET outcome = 'x'")
    catalog.close()


def test_concurrent_writers_keep_one_chain(catalog: Catalog, catalog_url: str) -> None:
    def write(worker: int) -> None:
        own = Catalog(catalog_url)
        for n in range(15):
            own.audit(actor=f"worker-{worker}", action="harvest_start", target=str(n), outcome="ok")
        own.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_chain(catalog.engine)
    assert (report.intact, report.entries) == (True, 60)
