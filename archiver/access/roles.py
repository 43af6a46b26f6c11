"""Roles (R17) and which commands each may run: the one table every entry point checks.

The roles follow the RTI Act and the Public Records Act: the CPIO/SPIO decides requests, the APIO
receives them, the first appellate authority hears appeals, the records officer keeps the
records, the responder answers on social media, the auditor reads the trail, the administrator
manages users. A command not listed here is not role-checked yet (the capture commands run as
the operator). docs/rti.md prints this table; a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ROLES", "COMMAND_ROLES", "APPLICANT_ROLES", "roles_for", "may_run"]

#: role -> what it is, as shown in help and docs
ROLES: dict[str, str] = {
    "pio": "CPIO/SPIO: the Central or State Public Information Officer who decides requests (RTI s.5(1), s.7)",
    "apio": "Assistant Public Information Officer: receives requests and appeals and forwards them (RTI s.5(2))",
    "faa": "First appellate authority: the officer senior to the PIO who decides first appeals (RTI s.19(1), s.19(6))",
    "records_officer": "Records officer (DRO): keeps the records and their retention (PRA s.5, s.6)",
    "responder": "Social media responder: answers on the department's accounts (framework pp.14-15)",
    "auditor": "Auditor: reads the register and the audit trail, changes nothing",
    "administrator": "Administrator: adds users and grants roles",
}

_READERS = frozenset({"pio", "apio", "faa", "records_officer", "auditor"})

#: command -> the roles that may run it (any one of them is enough)
COMMAND_ROLES: dict[str, frozenset[str]] = {
    "rti new": frozenset({"pio", "apio"}),
    "rti list": _READERS,
    "rti show": _READERS,
    "rti due": _READERS,
    "rti advance": frozenset({"pio"}),
    "rti record": frozenset({"pio"}),
    "rti decide": frozenset({"pio"}),
    "rti notice": frozenset({"pio"}),
    "rti appeal first": frozenset({"pio", "apio", "faa"}),
    "rti appeal extend": frozenset({"faa"}),
    "rti appeal decided": frozenset({"faa"}),
    "rti appeal second": frozenset({"pio", "faa"}),
    "rti close": frozenset({"pio"}),
    "rti hold": frozenset({"pio", "records_officer"}),
    "rti hold list": _READERS,
    "rti hold release": frozenset({"pio", "records_officer"}),
    "rti review suggest": frozenset({"pio"}),
    "rti review list": _READERS,
    "rti review status": _READERS,
    "rti review accept": frozenset({"pio"}),
    "rti review reject": frozenset({"pio"}),
    "rti review decide": frozenset({"pio"}),
    "rti package": frozenset({"pio"}),
    "rti keygen": frozenset({"pio", "administrator"}),
    "users add": frozenset({"administrator"}),
    "users grant": frozenset({"administrator"}),
    "users revoke": frozenset({"administrator"}),
    "users list": frozenset({"administrator", "auditor"}),
    "credentials add": frozenset({"administrator", "records_officer"}),
    "credentials import": frozenset({"administrator", "records_officer"}),
    "credentials end": frozenset({"administrator", "records_officer"}),
    "credentials list": frozenset({"administrator", "records_officer", "auditor", "responder"}),
    "audit list": frozenset({"auditor", "administrator"}),
    "audit verify": frozenset({"auditor", "administrator", "records_officer"}),
    "audit head": frozenset({"auditor", "administrator", "records_officer"}),
    "storage delete": frozenset({"records_officer"}),
    "hold release": frozenset({"pio", "records_officer"}),  # and by hold type: archiver.catalog.annotations.RELEASE_ROLES
}

#: who may see an applicant's or a third party's particulars (personal data, RTI s.6(2))
APPLICANT_ROLES = frozenset({"pio", "apio", "faa"})


def roles_for(command: str) -> frozenset[str]:
    try:
        return COMMAND_ROLES[command]
    except KeyError:
        raise KeyError(f"{command!r} is not in the table of commands and roles; add it to archiver/access/roles.py") from None


def may_run(command: str, roles: Iterable[str]) -> bool:
    return bool(roles_for(command) & set(roles))
