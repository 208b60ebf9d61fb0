"""Pure rules: no Flask, no I/O, nothing of ours imported."""
