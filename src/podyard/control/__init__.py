"""The reconciler: makes the runtime match the store and writes observed status back."""
