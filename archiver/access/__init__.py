"""Who may do what: users and roles (R17), the credential register of archived accounts (R16).

``roles`` is the table of commands and the roles that may run them; ``users`` keeps users and
their roles in the catalog and holds the one gate (``authorize``); ``credentials`` is the register
of login IDs and authorised posters, which refuses anything that looks like a password.
"""

from __future__ import annotations

from archiver.access.roles import APPLICANT_ROLES, COMMAND_ROLES, ROLES, may_run, roles_for
from archiver.access.users import Actor, User, add_user, authorize, get_user, grant_role, list_users, revoke_role

__all__ = ["ROLES", "COMMAND_ROLES", "APPLICANT_ROLES", "may_run", "roles_for", "Actor", "User", "add_user", "authorize", "get_user", "grant_role", "list_users", "revoke_role"]
