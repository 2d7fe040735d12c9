"""Phone-credit and data top-ups: the operator's charging system, behind a port."""
