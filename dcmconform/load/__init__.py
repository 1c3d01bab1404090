"""Load, soak and throughput: the send loops, Locust's user, and the benchmark's plot."""
