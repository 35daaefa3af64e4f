from django.dispatch import Signal

# Sent with `release` after a DatasetRelease becomes published (see DatasetRelease.publish).
release_published = Signal()
