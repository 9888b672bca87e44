"""Watches: stored exposure questions, their change events, and their delivery (webhooks, Atom feeds)."""
