"""Backends execute lm-eval requests; ``harness.backends.base`` holds the protocol they follow and
``harness.registry.backends`` finds them by name."""
