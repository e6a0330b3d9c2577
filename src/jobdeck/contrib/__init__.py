"""Optional parts built on jobdeck's public API; each subpackage is imported only when used."""
