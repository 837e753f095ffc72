"""Shared, short-lived coordination state: presence, the waiting queue, capacity and claims."""

from desk.shared.base import Presence, QueueEntry, SharedState

__all__ = ["Presence", "QueueEntry", "SharedState"]
