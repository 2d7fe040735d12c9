"""ORM models and the domain rules that guard them: members, ledger, catalog, orders, payments."""
