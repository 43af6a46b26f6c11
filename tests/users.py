"""Users for the tests of role-checked commands: an administrator first, then the others."""

from __future__ import annotations

from archiver.access.users import add_user
from archiver.config import Config
from archiver.pipeline import open_catalog

__all__ = ["add_users"]


def add_users(config: Config, **roles: str) -> None:
    """Add the user ``admin`` (administrator), then each ``name=role`` given."""
    catalog = open_catalog(config)
    try:
        add_user(catalog, "admin", "admin", full_name="Archive Administrator", roles=["administrator"])
        for name, role in roles.items():
            add_user(catalog, "admin", name, full_name=f"Test {role.replace('_', ' ')}", roles=[role])
    finally:
        catalog.close()
