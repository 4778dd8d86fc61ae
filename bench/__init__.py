"""The benchmarks: plain scripts, one per measurement; `python bench/run_all.py --quick` runs them all."""
