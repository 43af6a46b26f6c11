"""Users and their roles in the catalog, and the check every role-bound command makes (R17).

``authorize`` is the one gate: it looks the acting user up in the catalog and returns an
``Actor`` only when the user is active and holds a role the command needs; a refusal is
written to the audit log and raised as ``AccessDenied``. Functions that change the register
take an ``Actor``, so they can only be called past the gate.

The first administrator is made explicitly: ``add_user`` with the administrator role is allowed
without an acting administrator only while the catalog has none. After that only an
administrator adds users or changes roles, and the last administrator cannot lose the role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select, update

from archiver.access.roles import ROLES, roles_for
from archiver.catalog import Catalog
from archiver.catalog import access_tables as a
from archiver.catalog.audit import append_entry
from archiver.errors import AccessDenied, CatalogError

__all__ = ["User", "Actor", "authorize", "add_user", "grant_role", "revoke_role", "get_user", "list_users"]


@dataclass(frozen=True, slots=True)
class User:
    name: str
    full_name: str
    designation: str | None
    active: bool
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Actor:
    """A user who passed ``authorize`` for ``command``."""

    name: str
    roles: frozenset[str]
    command: str

    def has(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def authorize(catalog: Catalog, user: str, command: str, *, target: str | None = None) -> Actor:
    """The acting ``user`` as an ``Actor`` for ``command``, or ``AccessDenied`` (audited)."""
    needed = roles_for(command)
    found = get_user(catalog, user)
    if found is None or not found.active:
        why = "is not a user of this archive" if found is None else "is no longer active"
        _refuse(catalog, user, command, target, needed, f"{user!r} {why}")
        raise AccessDenied(
            f"{command}: {user!r} {why}. An administrator adds users: sangrah users add {user} --role ROLE --full-name NAME "
            f"(the acting user comes from --user, SANGRAH_USER or the login name; R17).",
            user=user, command=command, roles=tuple(sorted(needed)),
        )
    if not needed & found.roles:
        held = ", ".join(sorted(found.roles)) or "no role"
        _refuse(catalog, user, command, target, needed, f"holds {held}")
        raise AccessDenied(
            f"{command} needs the role {' or '.join(sorted(needed))}; {user!r} holds {held} (R17, archiver/access/roles.py). "
            f"An administrator grants it: sangrah users grant {user} {sorted(needed)[0]} --reason TEXT",
            user=user, command=command, roles=tuple(sorted(needed)),
        )
    return Actor(found.name, found.roles, command)


def _refuse(catalog: Catalog, user: str, command: str, target: str | None, needed: frozenset[str], why: str) -> None:
    catalog.audit(actor=user, action=command.replace(" ", "_"), target=target, outcome="refused", details={"needs": sorted(needed), "why": why})


def get_user(catalog: Catalog, name: str) -> User | None:
    with catalog.engine.connect() as conn:
        return _user(conn, name)


def list_users(catalog: Catalog) -> list[User]:
    with catalog.engine.connect() as conn:
        names = [row[0] for row in conn.execute(select(a.users.c.name).order_by(a.users.c.name))]
        return [user for user in (_user(conn, name) for name in names) if user is not None]


def _user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(a.users).where(a.users.c.name == name)).mappings().first()
    if row is None:
        return None
    roles = conn.execute(select(a.user_roles.c.role).where(a.user_roles.c.user_name == name, a.user_roles.c.revoked_at.is_(None)))
    return User(row["name"], row["full_name"], row["designation"], row["active"], frozenset(r[0] for r in roles))


def _administrators(conn: Connection) -> list[str]:
    query = (
        select(a.user_roles.c.user_name)
        .join(a.users, a.users.c.name == a.user_roles.c.user_name)
        .where(a.user_roles.c.role == "administrator", a.user_roles.c.revoked_at.is_(None), a.users.c.active.is_(True))
    )
    return sorted({row[0] for row in conn.execute(query)})


def add_user(catalog: Catalog, acting: str, name: str, *, full_name: str, roles: Iterable[str], designation: str | None = None) -> User:
    """Add ``name`` with ``roles``; ``acting`` must be an administrator, except for the very first one."""
    roles = sorted(set(roles))
    _check_roles(roles)
    if not name.strip() or not full_name.strip():
        raise CatalogError("users add: give the user's login name and --full-name (as on official letters).")
    with catalog.engine.connect() as conn:
        bootstrap = not _administrators(conn)
    if bootstrap:
        if "administrator" not in roles:
            raise AccessDenied(
                f"users add: this archive has no administrator yet, so the first user must be one. "
                f"Run: sangrah users add {name} --role administrator --full-name {full_name!r} (R17)",
                user=acting, command="users add", roles=("administrator",),
            )
        actor_name, action = acting, "users_bootstrap"
    else:
        actor_name, action = authorize(catalog, acting, "users add", target=name).name, "users_add"

    def work(conn: Connection) -> None:
        if conn.execute(select(a.users.c.name).where(a.users.c.name == name)).first():
            raise CatalogError(f"users add: {name!r} is already a user. Change their roles with: sangrah users grant {name} ROLE --reason TEXT")
        # under the same transaction as the insert: a second "first administrator" loses here
        if bootstrap and _administrators(conn):
            raise AccessDenied("users add: an administrator was added meanwhile; ask them to add you.", user=acting, command="users add", roles=("administrator",))
        now = _now()
        conn.execute(insert(a.users).values(name=name, full_name=full_name, designation=designation, active=True, added_at=now, added_by=actor_name))
        for role in roles:
            conn.execute(insert(a.user_roles).values(user_name=name, role=role, granted_at=now, granted_by=actor_name, reason="added"))
        append_entry(conn, actor=actor_name, action=action, target=name, outcome="ok", details={"roles": roles}, at=now)

    catalog.write(work)
    user = get_user(catalog, name)
    assert user is not None
    return user


def grant_role(catalog: Catalog, actor: Actor, name: str, role: str, *, reason: str) -> User:
    _check_roles([role])

    def work(conn: Connection) -> None:
        user = _user(conn, name)
        if user is None:
            raise CatalogError(f"users grant: {name!r} is not a user. Add them first: sangrah users add {name} --role {role} --full-name NAME")
        if role in user.roles:
            raise CatalogError(f"users grant: {name!r} already holds {role}.")
        now = _now()
        conn.execute(insert(a.user_roles).values(user_name=name, role=role, granted_at=now, granted_by=actor.name, reason=reason))
        append_entry(conn, actor=actor.name, action="users_grant", target=name, outcome="ok", details={"role": role, "reason": reason}, at=now)

    catalog.write(work)
    user = get_user(catalog, name)
    assert user is not None
    return user


def revoke_role(catalog: Catalog, actor: Actor, name: str, role: str, *, reason: str) -> User:
    def work(conn: Connection) -> None:
        user = _user(conn, name)
        if user is None or role not in user.roles:
            raise CatalogError(f"users revoke: {name!r} does not hold {role}; see: sangrah users list")
        if role == "administrator" and _administrators(conn) == [name]:
            raise AccessDenied(
                f"users revoke: {name!r} is the only administrator; grant the role to another user first, so that someone can still manage users.",
                user=actor.name, command="users revoke", roles=("administrator",),
            )
        now = _now()
        conn.execute(
            update(a.user_roles)
            .where(a.user_roles.c.user_name == name, a.user_roles.c.role == role, a.user_roles.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=actor.name)
        )
        append_entry(conn, actor=actor.name, action="users_revoke", target=name, outcome="ok", details={"role": role, "reason": reason}, at=now)

    catalog.write(work)
    user = get_user(catalog, name)
    assert user is not None
    return user


def _check_roles(roles: Iterable[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise CatalogError(f"unknown role(s) {', '.join(unknown)}; the roles are {', '.join(ROLES)} (R17)")
