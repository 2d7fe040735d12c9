"""Redemption orders: the atomic redeem, idempotency, cancellation and the status machine."""
