"""Routing: pure policy (filters and a selector), the router that claims, and the sweeps."""
