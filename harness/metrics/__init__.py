"""Pure metric and statistics functions, free of the store and of models."""
