"""The dashboard's HTML pages, one router a page: jobs, schedules, the audit log and admin,
sign-in, and the Prometheus scrape endpoint that sits beside them."""
