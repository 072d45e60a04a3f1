"""``harness sweep``: many (model × revision × task) runs, skipping finished ones, locally or on Ray."""
