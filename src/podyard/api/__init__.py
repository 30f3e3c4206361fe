"""The wire: routing, signature checks, parameter decoding, the JD envelope, streams."""
