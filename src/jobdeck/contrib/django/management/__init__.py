"""Management commands of jobdeck.contrib.django."""
