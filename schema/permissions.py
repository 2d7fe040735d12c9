"""Who may call what: UNAUTHENTICATED without a valid token, FORBIDDEN for the wrong role."""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.permission import BasePermission

from models.actors import Actor, Role
from schema.context import Info
from schema.errors import client_error


def unauthenticated(info: Info) -> GraphQLError:
    reason = info.context.auth_failure or "a bearer token is required"
    return client_error(f"Not authenticated: {reason}.", "UNAUTHENTICATED")


def require_actor(info: Info) -> Actor:
    """The caller, or an UNAUTHENTICATED error."""
    actor = info.context.actor
    if actor is None:
        raise unauthenticated(info)
    return actor


def require_role(info: Info, *roles: Role) -> Actor:
    """The caller if they hold one of `roles`; UNAUTHENTICATED or FORBIDDEN otherwise."""
    actor = require_actor(info)
    if actor.role not in roles:
        raise client_error("Forbidden: this needs another role.", "FORBIDDEN")
    return actor


def require_warehouse(info: Info, warehouse_code: str) -> Actor:
    """Staff of that warehouse, or an admin."""
    actor = require_role(info, Role.WAREHOUSE, Role.ADMIN)
    if not actor.works_in(warehouse_code):
        raise client_error("Forbidden: you do not work in this warehouse.", "FORBIDDEN")
    return actor


class _RolePermission(BasePermission):
    roles: ClassVar[tuple[Role, ...]] = ()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_role(info, *self.roles)
        return True


class IsMember(_RolePermission):
    roles = (Role.MEMBER,)


class IsStaff(_RolePermission):
    roles = (Role.WAREHOUSE, Role.ADMIN)


class IsAdmin(_RolePermission):
    roles = (Role.ADMIN,)


class IsMemberOrAdmin(_RolePermission):
    roles = (Role.MEMBER, Role.ADMIN)


class IsAgentOrAdmin(_RolePermission):
    roles = (Role.AGENT, Role.ADMIN)
