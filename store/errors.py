"""Errors the data layer raises; each message is one line a user can act on."""


class StoreError(Exception):
    """A problem with the workspace that the user must fix (bad file, bad value)."""


class CorruptFileError(StoreError):
    """A database file that cannot be read; it is left untouched on disk."""


class ValidationError(StoreError, ValueError):
    """A value rejected on the way in (offsets out of range, unknown label...)."""


class UnsavedError(StoreError):
    """A save the disk refused (full, read-only); it is kept in memory and written once the disk allows."""


class LockedError(StoreError):
    """Another process is already writing this annotator (a second login); reading is still fine."""
