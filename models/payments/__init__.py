"""The cash part of an order: Stripe PaymentIntents, webhooks applied once, refunds."""
