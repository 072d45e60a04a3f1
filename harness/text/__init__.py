"""Text evaluation through lm-eval task definitions."""
