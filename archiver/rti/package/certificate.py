"""The certificate for electronic records (R13): BSA 2023 s.63 with its Schedule's Part A and
Part B, or IEA 1872 s.65B for proceedings begun before 1 July 2024 (BSA s.170(2)); the hash
report and the capture chain it encloses (R14).

Wording comes from ``schemas/bsa-s63-schedule.yaml``: the labels and tick boxes the rule book
gives. The Schedule's fixed sentences are not in the rule book; until the department supplies
them verbatim (``disclosure.bsa_schedule_file``), the certificate says in its own text that it
is not ready to sign, and ``missing_schedule_text`` names what is missing. The IEA has no
prescribed form: the s.65B certificate lists what s.65B(4) asks a certificate to do, in this
project's words, and says that it quotes no statutory text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal

import yaml

from archiver.errors import ConfigError
from archiver.rti.package.html import page
from archiver.rti.review import IST

__all__ = [
    "BSA_COMMENCEMENT",
    "DEFAULT_SCHEDULE",
    "Signatory",
    "Device",
    "CertificateInputs",
    "law_for",
    "load_schedule_text",
    "missing_schedule_text",
    "render_certificate",
]

#: BSA 2023 in force; proceedings begun before stay under the IEA (BSA s.170(2))
BSA_COMMENCEMENT = date(2024, 7, 1)
DEFAULT_SCHEDULE = Path(__file__).resolve().parents[3] / "schemas" / "bsa-s63-schedule.yaml"
_VERBATIM_KEYS = ("part_a_statement", "part_b_statement", "hash_line_verbatim")


@dataclass(frozen=True, slots=True)
class Signatory:
    name: str
    relation: str = ""  #: son/daughter/spouse of
    address: str = ""  #: residing/employed at
    designation: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    source: Literal["Server", "Cloud"] = "Server"
    make_model: str = ""
    color: str = ""
    serial_number: str = ""
    #: the Cloud ID: bucket or object URI of the store (or the server's identifier)
    cloud_id: str = ""
    other: str = ""
    control: tuple[str, ...] = ("Maintained", "Managed", "Operated")


@dataclass(frozen=True)
class CertificateInputs:
    party: Signatory
    device: Device
    expert: Signatory | None = None
    #: when the proceeding the record is tendered in commenced; None: no proceeding yet (BSA)
    proceeding_commenced_on: date | None = None
    place: str = ""
    schedule: Mapping[str, Any] = field(default_factory=dict)


def law_for(commenced_on: date | None) -> Literal["BSA s.63", "IEA s.65B"]:
    """The certificate's law: IEA s.65B for proceedings begun before 1 July 2024, else BSA s.63."""
    return "IEA s.65B" if commenced_on is not None and commenced_on < BSA_COMMENCEMENT else "BSA s.63"


def load_schedule_text(override: Path | None = None) -> dict[str, Any]:
    """The Schedule's wording: the rule book's labels, with the verbatim sentences of ``override``."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    if override is not None:
        try:
            extra = yaml.safe_load(Path(override).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"disclosure.bsa_schedule_file {override}: cannot be read as YAML ({exc}). Give the file with the Schedule's verbatim text.") from exc
        if not isinstance(extra, dict):
            raise ConfigError(f"disclosure.bsa_schedule_file {override}: must be a mapping of the keys of {DEFAULT_SCHEDULE.name}.")
        unknown = sorted(set(extra) - set(data))
        if unknown:
            raise ConfigError(f"disclosure.bsa_schedule_file {override}: unknown key(s) {', '.join(unknown)}; use the keys of {DEFAULT_SCHEDULE.name}.")
        data.update(extra)
    return data


def missing_schedule_text(schedule: Mapping[str, Any]) -> list[str]:
    """The Schedule's sentences the certificate lacks (the rule book does not quote them)."""
    return [key for key in _VERBATIM_KEYS if not schedule.get(key)]


def _tick(options: list[str], chosen: set[str], suffix: str = "") -> str:
    return " &nbsp; ".join(f"{'☑' if o in chosen else '☐'} {escape(o)}" for o in options) + (f" {escape(suffix)}" if suffix else "")


def _gap(what: str) -> str:
    return (
        f'<p style="border:2px dashed #b00020;padding:.5rem"><strong>NOT READY TO SIGN.</strong> The {escape(what)} of the Schedule '
        "is not reproduced: its verbatim text is not in the rule book this software follows. Insert it from the India Code "
        "text of the Bharatiya Sakshya Adhiniyam, 2023, Schedule (disclosure.bsa_schedule_file), then generate the certificate again.</p>"
    )


def _part(schedule: Mapping[str, Any], title: str, who: Signatory, device: Device, statement_key: str, signature_key: str, digest: str, on: datetime, place: str) -> str:
    ids = schedule["identity_labels"]
    values = [who.name, who.relation, who.address]
    rows = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in zip(ids, values))
    particulars = [device.make_model, device.color, device.serial_number, device.cloud_id, device.other]
    prow = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in zip(schedule["particulars"], particulars))
    statement = schedule.get(statement_key)
    hash_line = schedule.get("hash_line_verbatim") or schedule["hash_line"]
    sig_values = {
        schedule[signature_key][0]: (who.name + (f", {who.designation}" if who.designation else "")) + " — ______________________",
        schedule[signature_key][1]: on.astimezone(IST).strftime("%d/%m/%Y"),
        schedule[signature_key][2]: on.astimezone(IST).strftime("%H:%M"),
        schedule[signature_key][3]: place,
    }
    sig = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in sig_values.items())
    return (
        f"<h2>{escape(schedule[title])}</h2><table>{rows}</table>"
        f"<p>{_tick(schedule['sources'], {device.source})}</p><table>{prow}</table>"
        + (f"<p>{escape(statement)}</p>" if statement else _gap(f"fixed statement of {schedule[title]}"))
        + f"<p>{_tick(schedule['control'], set(device.control), schedule['control_suffix'])}</p>"
        f"<p>{escape(hash_line.format(hash=digest))} {_tick(schedule['algorithms'], {'SHA256'})} {escape(schedule['hash_report_note'])}</p>"
        + ("" if schedule.get("hash_line_verbatim") else '<p class="meta">The hash line is given as the rule book quotes it, shortened there with "…".</p>')
        + f"<table>{sig}</table>"
    )


def render_certificate(
    inputs: CertificateInputs,
    *,
    registration_number: str,
    records: list[tuple[str, str, str]],
    digest: str,
    digest_of: str,
    chain_note: str,
    generated_at: datetime,
) -> str:
    """The certificate as HTML. ``records``: (item, record, link on the platform) of each record covered;
    ``digest`` is the SHA-256 of ``digest_of`` (the WARC file of the package)."""
    schedule = inputs.schedule or load_schedule_text()
    law = law_for(inputs.proceeding_commenced_on)
    commenced = inputs.proceeding_commenced_on.strftime("%d/%m/%Y") if inputs.proceeding_commenced_on else "not given (no proceeding named)"
    listing = "".join(f"<tr><td>{escape(i)}</td><td>{escape(r)}</td><td>{escape(u)}</td></tr>" for i, r, u in records)
    annex = (
        "<h2>Annexure: the electronic records and how they were produced</h2>"
        f"<p>{escape(chain_note)}</p><table><tr><th>item</th><th>record</th><th>link on the platform</th></tr>{listing}</table>"
        f"<p>Hash value (SHA-256) of {escape(digest_of)}: <code>{escape(digest)}</code>. Every record and file is listed with "
        "its SHA-256 in the enclosed hash report (hash-report.csv) and its capture chain in capture-chain.csv.</p>"
    )
    head = (
        f"<p>RTI registration no. {escape(registration_number)}. Proceeding commenced: {escape(commenced)}. "
        f"Law applied: {escape(law)} (BSA s.170(2): proceedings pending on 1 July 2024 stay under the Indian Evidence Act).</p>"
    )
    if law == "BSA s.63":
        body = (
            "<h1>Certificate under section 63(4)(c) of the Bharatiya Sakshya Adhiniyam, 2023</h1>" + head
            + _part(schedule, "part_a_title", inputs.party, inputs.device, "part_a_statement", "part_a_signature", digest, generated_at, inputs.place)
            + (
                _part(schedule, "part_b_title", inputs.expert, inputs.device, "part_b_statement", "part_b_signature", digest, generated_at, inputs.place)
                if inputs.expert
                else _gap("Part B (expert): no expert is named for this certificate, and its statement")
            )
            + annex
        )
    else:
        who = inputs.party
        body = (
            "<h1>Certificate under section 65B(4) of the Indian Evidence Act, 1872</h1>" + head
            + "<p>The Act prescribes no form for this certificate and this page quotes no statutory text. As s.65B(4) asks, it "
            "(a) identifies the electronic records and describes the manner in which they were produced (the annexure), "
            "(b) gives the particulars of the device involved, and (c) deals with the conditions of s.65B(2): regular use, "
            "regular feeding of information, proper operation, and faithful reproduction.</p>"
            + f"<table><tr><th>Device</th><td>{escape(inputs.device.source)}; {escape(inputs.device.make_model)}; Cloud ID {escape(inputs.device.cloud_id)}</td></tr>"
            f"<tr><th>Signed by</th><td>{escape(who.name)}, {escape(who.designation)} — ______________________</td></tr>"
            f"<tr><th>Date (DD/MM/YYYY)</th><td>{generated_at.astimezone(IST).strftime('%d/%m/%Y')}</td></tr>"
            f"<tr><th>Time (IST) in 24-hour format</th><td>{generated_at.astimezone(IST).strftime('%H:%M')}</td></tr>"
            f"<tr><th>Place</th><td>{escape(inputs.place)}</td></tr></table>"
            + annex
        )
    return page(f"Certificate ({law}) — RTI {registration_number}", body)
