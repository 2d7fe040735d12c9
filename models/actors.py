"""Who is acting: a member, warehouse staff of some warehouses, a service agent, or an admin
(admins also supervise the agents)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    WAREHOUSE = "warehouse"
    AGENT = "agent"  # customer service: every member's tickets, and what a ticket needs
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """An authenticated caller; `subject` is a member's externalId for members."""

    role: Role
    subject: str
    warehouses: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT

    @property
    def handles_tickets(self) -> bool:
        """Agents and admins (the supervisors) work every member's tickets."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @property
    def is_member(self) -> bool:
        return self.role is Role.MEMBER

    def works_in(self, warehouse_code: str) -> bool:
        """Admins work everywhere; staff only in the warehouses of their token."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.WAREHOUSE and warehouse_code in self.warehouses
