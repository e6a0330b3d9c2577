"""Where the SQLite wake-up channel was before the store became packages; it lives in
``jobdeck.store.sqlite.wake`` now, and this name stays importable."""

from jobdeck.store.sqlite.wake import WakeChannel

__all__ = ["WakeChannel"]
