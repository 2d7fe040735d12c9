"""GraphQL of after-sales: tickets, the agents' queue, resolutions, surveys, the report."""
