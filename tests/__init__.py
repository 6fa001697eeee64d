"""complaintsd's tests; a package so that `tests.servers` is importable by the tests and the benchmarks."""
