"""The desk's bots: they listen to domain events and speak through the same path as people
(their messages get a ``seq``; the author kind is ``bot``)."""
