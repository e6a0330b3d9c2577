"""manage.py jobdeck_worker."""
