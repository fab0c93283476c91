"""Use cases: the only layer that combines the store, the codecs and the rules (and checks permissions)."""
