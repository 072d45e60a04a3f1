"""Locating, building and fingerprinting model weights."""
