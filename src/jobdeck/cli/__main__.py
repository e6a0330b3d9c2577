"""``python -m jobdeck.cli``: the ``jobdeck`` program, as the console script runs it.

The one place in this package that reaches the facade, through ``jobdeck.console``: it is the
program, run and never imported, and the program is what hands the CLI its deck.
"""

from jobdeck.console import run

run()
