"""Storage engine: crash-safe files, JSON codec, the journal of saves."""
