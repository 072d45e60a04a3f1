"""Leaderboards: definitions, tables built from the store, and the static HTML site."""
