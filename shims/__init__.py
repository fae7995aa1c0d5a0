"""shims: where the two worlds meet, by conversion at the boundary."""
