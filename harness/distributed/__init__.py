"""Running on Ray: joining or starting a cluster, and engines spread over it (data parallelism)."""
