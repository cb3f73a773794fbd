"""neuropil's benchmarks: the harness (:mod:`benchmarks.harness`), the command line
(:mod:`benchmarks.run`) and one ``bench_*.py`` module per workload, each measuring neuropil
against its peers in the same run. See ``benchmarks/README.md``.
"""
