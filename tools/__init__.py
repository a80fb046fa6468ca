"""What is not a test: the benchmark, fault injection, the nanoGPT peer and the external-link check (see README.md)."""
