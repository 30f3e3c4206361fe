"""Pure rules of the pod service: models, validation, the phase machine, quotas. No I/O."""
