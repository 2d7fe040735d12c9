"""Promises with a deadline, kept alike by every domain that makes one (see `sweep`)."""
