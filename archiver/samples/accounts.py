"""Register the sample platforms' department accounts, with their test credentials.

The demo, the tests and the benchmarks all harvest the sample platforms the way an operator
harvests real ones: accounts in the catalog, credentials in named variables.
"""

from __future__ import annotations

from collections.abc import Iterable

from archiver.catalog import Catalog
from archiver.config import provide_secret
from archiver.model import PLATFORMS
from archiver.samples.server import SampleServer

__all__ = ["credential_variable", "register_sample_accounts"]


def credential_variable(platform: str) -> str:
    """The variable a sample account's credential is read from."""
    return f"SANGRAH_SAMPLE_{platform.upper()}_TOKEN"


def register_sample_accounts(catalog: Catalog, server: SampleServer, platforms: Iterable[str] = PLATFORMS) -> None:
    """Register (or re-point) one department account per platform at ``server``."""
    for platform in platforms:
        account = server.world.account(platform)
        provide_secret(credential_variable(platform), server.world.token(platform))
        catalog.add_account(
            platform=platform,
            native_id=account.native_id,
            handle=account.handle,
            display_name=account.display_name,
            base_url=server.base_url(platform),
            credential_env=credential_variable(platform),
            replace=True,
        )
