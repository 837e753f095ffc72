"""Statistics: facts recorded as things happen, daily roll-ups, reports, the live dashboard,
quality grading and certificates of work."""
