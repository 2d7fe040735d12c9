"""Points: the append-only ledger, expiring lots, holds, and the services that move them."""
