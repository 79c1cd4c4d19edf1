"""Command groups of `lanxi`, one module per area."""
