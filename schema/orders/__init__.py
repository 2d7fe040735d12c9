"""Orders in GraphQL: redeem, cancel, a member's orders, one order."""
