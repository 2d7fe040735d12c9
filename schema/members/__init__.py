"""Members in GraphQL: `me`, `member(externalId)`, `upsertMember`."""
