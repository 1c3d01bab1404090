"""Performance checks (area performance, PERF-NNN): latency, throughput, association limit, load."""
