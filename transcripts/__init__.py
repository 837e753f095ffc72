"""Transcripts: the stored messages of every consultation."""
