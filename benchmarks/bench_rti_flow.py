"""An RTI request end to end through the catalog: scope by a saved search, holds, review, package.

Usage::

    .venv/bin/python benchmarks/bench_rti_flow.py                      # ~250k and ~1M records
    .venv/bin/python benchmarks/bench_rti_flow.py --sizes 13000 --no-docs

Runs on the archives ``bench_package.py`` builds and keeps in ``.cache/bench/package-POSTS/``,
indexed once here into their embedded (SQLite FTS5) search index. The request is a saved search
for the department's posts of a run of days (``by=department kind=post from=… to=…``), the
window chosen so that their threads hold about ``--request-records`` record versions. In a
child process of its own, on a copy of the archive's catalog (so the cached one is not changed):

- ``scope``: the search run to its last page, the scope written, the RTI_PENDING hold placed on
  every record found (``sync_request_hold``);
- ``review``: the review set built (threads expanded from the dataset, redaction suggestions
  made and stored), every suggestion accepted, the rest decided ``disclose``, and the review read
  back from the catalog after each step, as the commands do;
- ``package``: the decision recorded and ``package_request`` run: the review read back and
  checked, the decision letter, and ``build_package`` (both copies, PDF, WACZ, certificate,
  bags, signatures, ZIPs), audited.

The floor is ``bench_package.py``'s: one pyarrow scan for the same rows, every capture read by
pointer and inflated, the same bytes stored in a ZIP. Results go to the "RTI request, end to
end" section of docs/performance.md unless ``--no-docs``.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_package import SpawnedPeak, _archive, _child, _row_group_rows, arguments, peak_rss_mib, verdicts  # noqa: E402 - after the path is set
from perfdoc import section_head, update_section  # noqa: E402

SECTION = "## RTI request, end to end"
DEFAULT_SIZES = "13000,52000"
REGNO = "BENCH/R/2026/00001"
def _indexed(data: Path) -> float:
    """Index the archive once (kept with it); the seconds it took, or 0 if it was there."""
    done = data / "search" / "INDEXED"
    if done.exists():
        return 0.0
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "archiver.cli", "-q", "index", "--data-dir", str(data)], check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    done.write_text(f"indexed in {seconds:.0f} s\n")
    return seconds


def _window(data: Path, records: int) -> tuple[str, str, list[str]]:
    """The run of days whose department posts' threads hold about ``records`` versions."""
    import pyarrow.dataset as ds

    from archiver.rti.review import IST

    table = ds.dataset(data / "tables" / "records", format="parquet", partitioning="hive").to_table(columns=["record_id", "root_id", "by_department", "kind", "created_at"])
    ids, roots = table.column("record_id").to_pylist(), table.column("root_id").to_pylist()
    sizes = Counter(root or rid for rid, root in zip(ids, roots))
    posts: dict[date, set[str]] = {}
    for rid, dept, kind, created in zip(ids, table.column("by_department").to_pylist(), table.column("kind").to_pylist(), table.column("created_at").to_pylist()):
        if dept and kind == "post" and created is not None:
            posts.setdefault(created.astimezone(IST).date(), set()).add(rid)
    days = sorted(posts)
    start = days[len(days) // 3]  # not the first days: a window inside the archive
    total, chosen, day = 0, [], start
    for day in (d for d in days if d >= start):
        chosen += sorted(posts[day])
        total += sum(sizes[p] for p in posts[day])
        if total >= records:
            break
    return start.isoformat(), day.isoformat(), chosen


def _flow(data: str, spec: dict[str, Any]) -> dict[str, Any]:
    from archiver.access.users import add_user, authorize, get_user, list_users
    from archiver.config import load_config
    from archiver.pipeline import open_catalog, rti_rules, search_all_ids
    from archiver.rti.deadlines import ist_day
    from archiver.rti.disclose import package_request
    from archiver.rti.holds import hold_window, sync_request_hold
    from archiver.rti.package import generate_signing_key
    from archiver.rti.register import get_case, record_event, register_request
    from archiver.rti.request import Applicant, NewRequest
    from archiver.rti.review_catalog import accept_suggestions, build_review_set, decide, load_review, request_ref_for, summary_of
    from archiver.rti.scope import add_search
    from archiver.rti.states import Event
    from archiver.samples.rti_demo import SAMPLE_RTI
    from archiver.search.query import parse_filters, parse_query

    work = Path(tempfile.mkdtemp(prefix="bench-rti-flow-"))
    source = sqlite3.connect(Path(data) / "catalog.sqlite")
    target = sqlite3.connect(work / "catalog.sqlite")
    source.backup(target)
    source.close()
    target.close()
    generate_signing_key(work / "key.pem")
    config = load_config(None, overrides={
        "data_dir": data, "catalog_url": f"sqlite:///{work / 'catalog.sqlite'}", "operator": "benchmark", "rti": SAMPLE_RTI,
        "disclosure": {"signing_key_file": str(work / "key.pem"), "packages_dir": str(work / "out")},
    })
    rules = rti_rules(config)
    now = datetime.now(timezone.utc)
    catalog = open_catalog(config)
    admins = [u.name for u in list_users(catalog) if "administrator" in u.roles]
    if not admins:
        admins = [add_user(catalog, "admin", "admin", full_name="Administrator", roles=("administrator",)).name]
    if get_user(catalog, "cpio") is None:
        add_user(catalog, admins[0], "cpio", full_name="A. K. Verma", roles=("pio",))
    new = NewRequest(REGNO, now - timedelta(days=2), "online_portal", "The department's posts and the replies", Applicant("B. Applicant", "New Delhi", None), fee_paid_inr=Decimal(10))
    register_request(catalog, authorize(catalog, "cpio", "rti new"), new, now=now, pattern=r"^BENCH/R/\d{4}/\d{5}$", fee_table=rules.fee_table, timelines=rules.timelines)
    actor = authorize(catalog, "cpio", "rti review decide")
    stages: dict[str, float] = {}
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    filters = ["by=department", "kind=post", f"from={spec['from']}", f"to={spec['to']}"]
    found = search_all_ids(config, parse_query(""), parse_filters(filters))
    add_search(catalog, actor, REGNO, "", filters, found, now=now)
    case = get_case(catalog, REGNO)
    sync = sync_request_hold(catalog, case, hold_window(case, case.deadlines(rules.timelines, now), rules.timelines), actor="cpio", today=ist_day(now))
    stages["scope_seconds"] = time.perf_counter() - started
    mark = time.perf_counter()
    build_review_set(catalog, actor, REGNO, config.records_dir, now=now)
    request = request_ref_for(config.rti, case)
    loaded = load_review(catalog, REGNO, config.records_dir, request)
    accepted, _ = accept_suggestions(catalog, actor, loaded, None, now=now)
    loaded = load_review(catalog, REGNO, config.records_dir, request)
    decide(catalog, actor, loaded, loaded.undecided(), "disclose", now=now)
    stages["review_seconds"] = time.perf_counter() - mark
    review_peak_mib = peak_rss_mib()
    mark = time.perf_counter()
    loaded = load_review(catalog, REGNO, config.records_dir, request)
    summary = summary_of(loaded)
    details = {"outcome": "partly_disclosed", "sections": list(summary.sections), "reasons": "personal information", "findings": None, "summary": summary.to_json()}
    record_event(catalog, authorize(catalog, "cpio", "rti decide"), REGNO, Event("decision", now, "personal information", None, details), now=now, timelines=rules.timelines)
    with SpawnedPeak() as pdf_peak:
        run = package_request(catalog, authorize(catalog, "cpio", "rti package"), config, REGNO, config.packages_dir, now=now)
    stages["package_seconds"] = time.perf_counter() - mark
    seconds = time.perf_counter() - started
    catalog.close()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_seconds": own.ru_utime + own.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime + children.ru_utime + children.ru_stime,
        "seconds": seconds, **stages, "found": len(found), "held": sync.records, "records": len(loaded.review.records), "record_ids": run.records,
        "suggestions": accepted, "redactions": sum(len(d.redactions) for d in loaded.review.decisions.values()),
        "captures": run.result.internal.captures_in_wacz, "package_mb": sum(p.stat().st_size for p in run.result.folder.rglob("*") if p.is_file()) / 1e6,
        "peak_rss_mib": peak_rss_mib(), "pdf_peak_rss_mib": pdf_peak.mib, "review_peak_rss_mib": review_peak_mib,
    }


def main() -> None:
    args = arguments(__doc__, DEFAULT_SIZES)
    results = []
    for posts in (int(s) for s in args.sizes.split(",")):
        data = _archive(posts)
        index_seconds = _indexed(data)
        day_from, day_to, roots = _window(data, args.request_records)
        import pyarrow.dataset as ds

        archive_records = ds.dataset(data / "tables" / "records", format="parquet", partitioning="hive").count_rows()
        load = os.getloadavg()[0]
        ours = _child("flow", data, {"from": day_from, "to": day_to}, module="bench_rti_flow")
        floor = _child("floor", data, roots)
        row = {"posts": posts, "archive_records": archive_records, "from": day_from, "to": day_to, "load": load, "index_seconds": index_seconds,
               "row_group_rows": _row_group_rows(data), **ours, "floor_seconds": floor["seconds"]}
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.no_docs:
        return
    command = ".venv/bin/python benchmarks/bench_rti_flow.py" + ("" if args.sizes == DEFAULT_SIZES else f" --sizes {args.sizes}")
    lines = section_head(SECTION, command) + [
        "One request through the catalog as the RTI cell runs it: a saved search for the department's posts of a run of days "
        "(about 10,000 record versions once their threads are expanded), the RTI_PENDING hold on what it finds, the review set "
        "built and its redaction suggestions stored, every suggestion accepted, the rest decided disclose, the decision recorded, "
        "and `package_request` (the review read back and checked, the decision letter, both copies with PDF, WACZ, certificate, "
        "bags, signatures and ZIPs). Timed in a child process on a copy of the archive's catalog; the search index (FTS5) is built "
        "once beforehand and not timed. The floor is that of the disclosure package section: one pyarrow scan for the same rows, "
        "every capture read and inflated, the bytes stored in a ZIP.",
        "",
        "| archive records | search found | held | request versions | suggestions accepted | captures | wall s | CPU s | scope s | review s | package s | floor s | vs floor | package MB | peak RSS MiB | of which by the end of the review | PDF process peak RSS MiB | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['archive_records']:,} | {r['found']:,} | {r['held']:,} | {r['records']:,} | {r['suggestions']:,} | {r['captures']:,} | {r['seconds']:.1f} | "
            f"{r['cpu_seconds']:.1f} | {r['scope_seconds']:.1f} | {r['review_seconds']:.1f} | {r['package_seconds']:.1f} | {r['floor_seconds']:.1f} | "
            f"{r['floor_seconds'] / r['seconds']:.2f} | {r['package_mb']:.0f} | {r['peak_rss_mib']:.0f} | {r['review_peak_rss_mib']:.0f} | "
            f"{r['pdf_peak_rss_mib']:.0f} | {r['load']:.1f} |"
        )
    lines += [
        "",
        "Held counts the records under the request's RTI_PENDING hold after the scope step (the search's finds; the review set's "
        "thread records join the hold at the next change of the request). Review and package each read the review set back from the "
        "dataset (three scans, `read_threads`) and the decisions from the catalog, as separate commands do; that is the price of the "
        "catalog path over building the package from records in memory. Peak RSS is each process's own high-water mark "
        "(`VmHWM`; the disclosure package section says why not `ru_maxrss`).",
    ]
    lines += ["", *verdicts(results, what="a request of about 10,000 record versions, end to end", stage=("review_peak_rss_mib", "by the end of the review"))]
    update_section(ROOT / "docs" / "performance.md", SECTION, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
