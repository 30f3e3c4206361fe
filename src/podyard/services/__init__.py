"""Use cases, one function per API action: a transaction against the store, then a nudge."""
