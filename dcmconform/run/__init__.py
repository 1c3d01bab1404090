"""What a run is before it starts: its options, the catalogue of its checks, and a run in a child process."""
