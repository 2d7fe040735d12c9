"""Members of the programme, keyed by the operator's customer number."""
