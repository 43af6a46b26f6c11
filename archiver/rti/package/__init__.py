"""Disclosure packages (docs/disclosure.md): two signed BagIt bags per request — the applicant's
copy and the internal/appellate copy — with renderings, records, a WACZ of the captures, the
certificate for electronic records and an offline verifier.

Usage::

    found = read_threads(config.records_dir, record_ids)
    review = ReviewSet(request, found.records, decisions)
    result = build_package(PackageInputs(review, found.co_captured, WarcSource(warc_dir), certificate,
                                         load_signing_key(key_file), letter), out_dir)
"""

from archiver.rti.package.build import BuiltCopy, LetterDocument, PackageInputs, PackageResult, build_package, package_name
from archiver.rti.package.certificate import CertificateInputs, Device, Signatory, law_for, load_schedule_text
from archiver.rti.package.evidence import WarcSource
from archiver.rti.package.signing import SigningKey, generate_signing_key, load_signing_key

__all__ = [
    "BuiltCopy",
    "LetterDocument",
    "PackageInputs",
    "PackageResult",
    "build_package",
    "package_name",
    "CertificateInputs",
    "Device",
    "Signatory",
    "law_for",
    "load_schedule_text",
    "WarcSource",
    "SigningKey",
    "generate_signing_key",
    "load_signing_key",
]
