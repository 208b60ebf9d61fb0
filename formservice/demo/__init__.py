"""Demo mode: everything on one machine with embedded defaults."""
