"""Webhooks from systems we do not own: Stripe, carriers."""
