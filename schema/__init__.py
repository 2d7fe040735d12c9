"""The GraphQL schema: thin adapters between the API's types and the domain services."""
