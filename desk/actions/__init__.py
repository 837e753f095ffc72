"""Actions: the only code that changes state. Each validates, writes in one transaction, and
announces what happened on the bus after the commit."""
