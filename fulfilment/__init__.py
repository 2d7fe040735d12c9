"""
The seven-day promise: calendars, planning, the work queue, shipments and tracking, alerts.
"""
