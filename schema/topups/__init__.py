"""Top-ups in the GraphQL schema."""
