"""Benchmark harness: the seed's Flask apps, a fair Django monolith, floors and ceilings, and our stack."""
