"""GraphQL of the seven-day promise: the work queue, shipping, tracking, SLA, live updates."""
