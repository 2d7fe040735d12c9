"""Fakes of third-party network edges that speak the real wire protocol (Stripe only)."""
