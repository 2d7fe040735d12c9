"""E-voucher code pools in GraphQL: the back office's import of small batches."""
