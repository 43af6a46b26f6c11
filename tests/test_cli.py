"""The command line as a user meets it: output, exit codes, help, and the documentation of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.pipeline import open_catalog
from archiver.config import load_config
from tests.conftest import _SECRETS, _WRITTEN

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> "click.testing.Result":
    return CliRunner().invoke(cli, list(args), obj={})


def test_demo_captures_six_accounts_and_names_checkable_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    _WRITTEN.append(data_dir)
    result = _run("demo", "--data-dir", str(data_dir), "--posts", "20")
    assert result.exit_code == 0, result.output
    for platform in ("bluesky", "facebook", "instagram", "mastodon", "x", "youtube"):
        assert re.search(rf"│ {platform}\s+│ @\S+\s+│ ok ", result.stdout), platform
    names = re.findall(r"warcio check (\S+)", result.stdout)
    assert names, result.stdout
    _assert_the_hindi_search_shows_hindi_replies_of_citizens(result.stdout, data_dir)
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", names[0]], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for platform in ("x", "facebook", "instagram", "youtube", "mastodon", "bluesky"):
        from archiver.samples.world import World

        _SECRETS.add(World(seed=7, posts_per_account=20).token(platform))
    verify = _run("verify", "--data-dir", str(data_dir))
    assert verify.exit_code == 0
    assert re.fullmatch(r"checked \d+ WARC files, \d+ records, \d+ Parquet files: all match the manifest\n", verify.stdout)


def _assert_the_hindi_search_shows_hindi_replies_of_citizens(stdout: str, data_dir: Path) -> None:
    import pyarrow.dataset as ds

    shown = re.search(r"^\$ sangrah search 'सड़क' --filter by=citizen --filter kind=reply,comment   \(([\d,]+) hits; the first 3\)\n((?:.*\n){9})", stdout, flags=re.MULTILINE)
    assert shown, stdout
    lines = shown.group(2).splitlines()
    heads = [re.fullmatch(r"(\S+) (reply|comment) by .+ \(citizen\) · \d{4}-\d\d-\d\d \d\d:\d\d IST.*", line) for line in lines[0::3]]
    assert all(heads), lines
    ids = [head.group(1) for head in heads if head]
    assert len(set(ids)) == 3 <= int(shown.group(1).replace(",", ""))
    assert all(re.search("स(ड\u093c|\u095c)क", snippet) for snippet in lines[1::3]), lines
    assert [line.rsplit("sangrah show ", 1)[1] for line in lines[2::3]] == ids
    rows = ds.dataset(data_dir / "tables" / "records", format="parquet", partitioning="hive").to_table(filter=ds.field("record_id").isin(ids)).to_pylist()
    assert {r["record_id"] for r in rows} == set(ids)
    for row in rows:  # from the dataset, not the display: citizens' replies in Hindi (Facebook reports no language)
        assert row["language"] in ("hi", None) and not row["by_department"] and row["kind"] in ("reply", "comment"), row
        letters = [c for c in row["text"] if c.isalpha()]
        assert sum("\u0900" <= c <= "\u097f" for c in letters) > 0.8 * len(letters), row["text"]


def test_verify_detects_a_flipped_byte(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    _WRITTEN.append(data_dir)
    assert _run("demo", "--data-dir", str(data_dir), "--posts", "5", "--json").exit_code == 0
    warc = sorted((data_dir / "store" / "warcs").glob("*.warc.gz"))[0]
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    result = _run("verify", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert f"MISMATCH {warc.name}: SHA-256 " in result.stdout
    assert "does not match the manifest's" in result.stdout
    assert re.search(rf"MISMATCH {warc.name} at offset \d+: ", result.stdout)
    assert result.stdout.rstrip().endswith("problem(s)")


def test_accounts_add_and_list(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    added = _run("accounts", "add", "mastodon", "109", "--handle", "dept", "--base-url", "https://mastodon.example", "--data-dir", data_dir)
    assert added.exit_code == 0
    assert added.stderr == "registered mastodon:109 (@dept); its credential is read from SANGRAH_MASTODON_ACCESS_TOKEN\n"
    again = _run("accounts", "add", "mastodon", "109", "--data-dir", data_dir)
    assert again.exit_code == 1
    assert "account mastodon:109 is already registered. Use --replace to change its settings." in again.stderr
    listed = _run("accounts", "list", "--json", "--data-dir", data_dir)
    assert listed.stdout == '{"key":"mastodon:109","platform":"mastodon","handle":"dept","base_url":"https://mastodon.example","credential_env":null,"active":true}\n'
    catalog = open_catalog(load_config(None, overrides={"data_dir": data_dir}))
    assert [e["action"] for e in catalog.audit_entries()] == ["account_add"]
    catalog.close()


def test_unknown_platform_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("accounts", "add", "myspace", "1", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "Invalid value for '{x|facebook|instagram|youtube|mastodon|bluesky}'" in result.stderr


def _commands(group: click.Group, prefix: str = "sangrah") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        out.append((full, command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, full))
    return out


@pytest.mark.parametrize(("name", "command"), _commands(cli))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help and "Example: sangrah" in command.help, name


def test_cli_reference_is_current() -> None:
    from archiver.clidoc import render_cli_reference

    assert (ROOT / "docs" / "cli.md").read_text() == render_cli_reference(), "regenerate with: python -m archiver.clidoc > docs/cli.md"


def test_samples_serve_answers_as_the_platforms_do() -> None:
    import httpx

    process = subprocess.Popen([sys.executable, "-m", "archiver.cli", "samples", "serve", "--port", "0", "--posts", "5"], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.match(r"sample platforms at (http://127\.0\.0\.1:\d+)/<platform>", first)
        assert match, first
        lines = [process.stderr.readline() for _ in range(6)]
        x_line = next(line for line in lines if line.strip().startswith("x:"))
        token = x_line.rsplit("credential ", 1)[1].strip()
        _SECRETS.add(token)
        url = f"{match.group(1)}/x/2/users/1350000000000000001/tweets"
        assert httpx.get(url).status_code == 401
        answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and len(answer.json()["data"]) == 5
        assert answer.headers["x-rate-limit-limit"] == "900"
    finally:
        process.terminate()
        process.wait(timeout=10)
