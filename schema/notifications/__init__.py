"""Notifications in GraphQL: the member's inbox and preferences, the live inbox, the
operators' view of SMS deliveries."""
