"""Pure codecs: no I/O, no clock, no framework. Time and trusted keys are parameters."""
