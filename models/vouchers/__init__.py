"""E-voucher codes: the pools partners supply, sealed at rest, each code one order line's."""
