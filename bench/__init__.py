"""jobdeck's own benchmarks: ``python bench/run.py`` (or ``make bench``) prints the figures."""
