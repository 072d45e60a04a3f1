"""Paired comparison of runs and the regression gate for CI."""
