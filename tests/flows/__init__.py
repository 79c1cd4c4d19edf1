"""Tests for bot.flows."""
