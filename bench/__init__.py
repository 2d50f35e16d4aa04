"""`python -m bench` (`make bench`): start-up, latency, scale, package, dashboard, load and fault figures.

Everything runs on the benchmark's OWN stack (port BENCH_PORT, default 4598; state in BENCH_STACK_DIR, default
.stack-bench), which it wipes at the start and stops at the end. Figures are reported as ratios against floors
measured in the same run; nothing here asserts on timing.
"""
