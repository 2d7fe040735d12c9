"""Points in GraphQL: the summary, the history, awards and adjustments."""
