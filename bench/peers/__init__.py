"""jobdeck against its Python peers, in one run: ``bash bench/peers/run.sh``."""
