"""The catalog in GraphQL: categories, gifts with availability, warehouses, stock."""
