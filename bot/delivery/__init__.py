"""Outbound delivery: claim outbox rows, respect rate limits, send through channels, record results."""
