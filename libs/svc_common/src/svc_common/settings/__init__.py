"""Settings the three projects share: base (all three), service (users and products), testing (the overlays)."""
