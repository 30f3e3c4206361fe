"""bench.run's measures, one module each: podyard against its baseline, side by side."""
