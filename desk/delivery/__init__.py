"""Document delivery in chat: files and links, their storage, and the delivery ledger."""
