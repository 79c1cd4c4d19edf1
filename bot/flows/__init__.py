"""Conversations with residents: flow definitions, the engine that runs them, and reply understanding."""
