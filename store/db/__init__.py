"""Storage engine: crash-safe files, lock files, JSON codec, the journal of saves (its format and its live store)."""
