"""Holds reach the WORM store: on a real MinIO bucket with Object Lock, a hold puts every WARC
object holding a capture of its records under S3 legal hold, a release lifts it only where no
other active hold still needs it, a governed delete of a held object is refused and audited,
only the right role releases a hold, and a store that cannot be reached leaves the objects
pending in the catalog until ``sangrah hold sync`` applies them."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import duckdb
import orjson
import yaml
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from archiver.catalog.annotations import hold_type_of
from archiver.catalog.audit import verify_chain
from archiver.catalog.legal_holds import object_holds, pending_objects
from archiver.cli import cli
from archiver.config import Config
from archiver.pipeline import extract, harvest, index, open_catalog, verify
from archiver.samples.server import SampleServer
from tests.conftest import register_samples
from tests.minio import MinioServer, boto_client, bucket, minio, s3_config  # noqa: F401  (fixtures)
from tests.users import add_users


def _legal_hold(client: Any, bucket_name: str, name: str) -> str:
    """The object's legal hold as S3 reports it: ON, OFF, or NONE when it never had one."""
    try:
        return str(client.get_object_legal_hold(Bucket=bucket_name, Key=f"warcs/{name}")["LegalHold"]["Status"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchObjectLockConfiguration", "InvalidRequest"):
            return "NONE"
        raise


def _config_file(config: Config, path: Path) -> Path:
    path.write_text(yaml.safe_dump(orjson.loads(config.model_dump_json())))
    return path


def _holds_check(result: Result) -> dict[str, Any]:
    (check,) = [c for c in orjson.loads(result.stdout)["checks"] if c["service"] == "holds"]
    return dict(check)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _records(config: Config, platform: str) -> list[tuple[str, str]]:
    """(record_id, warc_file) of the platform's replies, from the dataset by DuckDB's reader."""
    glob = f"{config.records_dir}/**/*.parquet"
    return [
        (str(r), str(w))
        for r, w in duckdb.connect().execute(
            f"SELECT record_id, min(warc_file) FROM read_parquet('{glob}', hive_partitioning = true) WHERE platform = '{platform}' AND kind = 'reply' GROUP BY record_id ORDER BY record_id LIMIT 2"
        ).fetchall()
    ]


def test_holds_set_and_release_s3_legal_hold_only_by_the_right_role(s3_config: Config, minio: MinioServer, sample_server: SampleServer, tmp_path: Path) -> None:
    config = s3_config
    register_samples(config, sample_server, ("x", "mastodon"))
    add_users(config, dro="records_officer", cpio="pio", clerk="responder")
    catalog = open_catalog(config)
    try:
        keys = {a.platform: a.key for a in catalog.list_accounts()}
    finally:
        catalog.close()
    for platform in ("x", "mastodon"):  # one WARC file each
        assert harvest(config, account_keys=[keys[platform]]).status == "succeeded"
    assert not extract(config).problems
    index(config)
    (x1, w_x), (x2, w_x2) = _records(config, "x")
    (m1, w_m), _ = _records(config, "mastodon")
    assert w_x == w_x2 != w_m
    client = boto_client(minio)
    name = config.storage.bucket
    assert name is not None and _legal_hold(client, name, w_x) == _legal_hold(client, name, w_m) == "NONE"

    runner = CliRunner()
    good = ["--config", str(_config_file(config, tmp_path / "good.yaml"))]

    def run(*args: str, base: list[str] = good) -> Result:
        return runner.invoke(cli, [*base, *args], obj={}, env={"SANGRAH_USER": ""})

    placed = run("hold", "place", "LITIGATION", x1, "--reference", "WP(C) 1234/2026", "--reason", "writ petition on the road replies", "--user", "dro")
    assert placed.exit_code == 0, placed.output
    assert placed.stdout == f"placed hold H-1 (LITIGATION WP(C) 1234/2026) on 1 record(s)\n"
    assert placed.stderr == f"legal hold set on 1 WARC object(s) in s3://{name} at {minio.endpoint}\n"
    assert (_legal_hold(client, name, w_x), _legal_hold(client, name, w_m)) == ("ON", "NONE")
    second = run("hold", "place", "RTI_PENDING", x2, m1, "--reference", "RTI/2026/0042", "--reason", "replies asked for", "--user", "cpio")
    assert second.exit_code == 0, second.output
    assert (_legal_hold(client, name, w_x), _legal_hold(client, name, w_m)) == ("ON", "ON")

    # the governed delete refuses a held object, on Sangrah's side and on S3's, and audits it
    refused = run("storage", "delete", w_m, "--reason", "disposal test", "--user", "dro")
    assert refused.exit_code == 1
    assert "it is under legal hold" in refused.stderr
    version = client.list_object_versions(Bucket=name, Prefix=f"warcs/{w_m}")["Versions"][0]["VersionId"]
    try:
        client.delete_object(Bucket=name, Key=f"warcs/{w_m}", VersionId=version)
        raise AssertionError("S3 deleted an object under legal hold")
    except ClientError as exc:
        assert exc.response["Error"]["Message"] == "Object is WORM protected and cannot be overwritten"

    # release: refused to a role without it, and a CPIO may not end a litigation hold
    clerk = run("hold", "release", "H-2", "--reason", "done", "--user", "clerk")
    assert clerk.exit_code == 1
    assert "hold release needs the role pio or records_officer; 'clerk' holds responder" in clerk.stderr
    cpio = run("hold", "release", "H-1", "--reason", "case disposed of", "--user", "cpio")
    assert cpio.exit_code == 1
    assert "a LITIGATION hold is released only by the records_officer; 'cpio' holds pio" in cpio.stderr
    assert (_legal_hold(client, name, w_x), _legal_hold(client, name, w_m)) == ("ON", "ON")

    # the CPIO ends the request's hold: its mastodon file is free again, the x file is still held by H-1
    ended = run("hold", "release", "H-2", "--reason", "FAA order of 2026-03-02; appeal window over", "--user", "cpio")
    assert ended.exit_code == 0, ended.output
    assert ended.stderr == f"legal hold released on 1 WARC object(s) in s3://{name} at {minio.endpoint}\n"
    assert (_legal_hold(client, name, w_x), _legal_hold(client, name, w_m)) == ("ON", "OFF")
    assert run("hold", "release", "H-1", "--reason", "the writ was dismissed", "--user", "dro").exit_code == 0
    assert (_legal_hold(client, name, w_x), _legal_hold(client, name, w_m)) == ("OFF", "OFF")

    # the store cannot be reached: the hold stands, its object is pending until `hold sync`
    down = config.model_copy(update={"storage": config.storage.model_copy(update={"endpoint_url": f"http://127.0.0.1:{_closed_port()}", "max_attempts": 1})})
    bad = ["--config", str(_config_file(down, tmp_path / "down.yaml"))]
    outage = run("hold", "place", "INVESTIGATION/LE_PRESERVATION", m1, "--reference", "FIR 77/2026", "--reason", "police preservation request", "--user", "dro", base=bad)
    assert outage.exit_code == 0, outage.output
    assert outage.stdout == "placed hold H-3 (INVESTIGATION FIR 77/2026) on 1 record(s)\n"
    assert outage.stderr.startswith(f"warning: the legal hold of 1 WARC object(s) in s3://{name} at http://127.0.0.1:")
    assert f"is still pending ({w_m}): " in outage.stderr
    assert outage.stderr.endswith("The holds themselves are recorded; run `sangrah hold sync` once the store is reachable.\n")
    assert _legal_hold(client, name, w_m) == "OFF"
    catalog = open_catalog(config)
    try:
        assert [(p.warc_file, p.wanted, p.hold_ids, p.applied) for p in pending_objects(catalog)] == [(w_m, True, (3,), False)]
    finally:
        catalog.close()
    listed = [orjson.loads(line) for line in run("hold", "list", "--json").stdout.splitlines()]
    assert [(h["id"], h["type"], h["placed_by"], h["warc_files"]) for h in listed] == [(3, "INVESTIGATION", "dro", {"held": [], "pending": [w_m]})]
    assert _holds_check(run("config", "check", "--json")) == {
        "service": "holds", "name": "legal hold in the store", "status": "failed",
        "detail": "1 WARC object(s) whose legal hold the store has yet to set or release", "next_step": "Run: sangrah hold sync (sangrah verify lists each object)",
    }  # fmt: skip
    checked = verify(config)
    assert [p for p in checked.problems if "legal hold" in p] == [
        f"{w_m}: legal hold not yet set in the store (holds H-3); last attempt: " + pending_error(config) + "; run: sangrah hold sync"
    ]
    synced = run("hold", "sync", "--json")
    assert synced.exit_code == 0, synced.output
    assert orjson.loads(synced.stdout) == {"store": f"s3://{name} at {minio.endpoint}", "resolved": False, "set_on": [w_m], "set_off": [], "pending": [], "error": None}
    assert _legal_hold(client, name, w_m) == "ON"
    assert orjson.loads(run("hold", "list", "--json").stdout)["warc_files"] == {"held": [w_m], "pending": []}
    again = run("hold", "sync")
    assert (again.exit_code, again.stdout) == (0, "no WARC object's legal hold needed changing\n")
    assert verify(config).ok
    assert _holds_check(run("config", "check", "--json"))["detail"] == "1 WARC object(s) under legal hold, as the holds need; none pending"

    catalog = open_catalog(config)
    try:
        states = object_holds(catalog)
        assert {n: (s.wanted, s.applied, s.hold_ids) for n, s in states.items()} == {w_x: (False, False, ()), w_m: (True, True, (3,))}
        syncs = [(e["actor"], e["outcome"], e["details"]["on"], e["details"]["off"]) for e in catalog.audit_entries(action="legal_hold_sync")]
        assert syncs == [("dro", "ok", [w_x], []), ("cpio", "ok", [w_m], []), ("cpio", "ok", [], [w_m]), ("dro", "ok", [], [w_x]), ("dro", "pending", [], []), (syncs[5][0], "ok", [w_m], [])]
        releases = [(e["actor"], e["target"], e["outcome"]) for e in catalog.audit_entries(action="hold_release")]
        assert releases == [("clerk", "H-2", "refused"), ("cpio", "H-1", "refused"), ("cpio", "H-2", "ok"), ("dro", "H-1", "ok")]
        refusal = catalog.audit_entries(action="hold_release")[1]["details"]
        assert refusal["needs"] == ["records_officer"] and refusal["type"] == "LITIGATION"
        ok = catalog.audit_entries(action="hold_release")[2]["details"]
        assert ok == {"reason": "FAA order of 2026-03-02; appeal window over", "type": "RTI_PENDING", "reference": "RTI/2026/0042"}
        deleted = catalog.audit_entries(action="delete_object")[-1]
        assert (deleted["actor"], deleted["target"], deleted["outcome"], deleted["details"]["legal_hold"]) == ("dro", f"warcs/{w_m}", "refused", True)
        assert verify_chain(catalog.engine).intact
    finally:
        catalog.close()
    assert hold_type_of("le_preservation") == "INVESTIGATION"


def pending_error(config: Config) -> str:
    catalog = open_catalog(config)
    try:
        (item,) = pending_objects(catalog)
        assert item.error is not None and "127.0.0.1" in item.error
        return item.error
    finally:
        catalog.close()
