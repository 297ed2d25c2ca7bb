"""Code shared by the user, product and gateway Django projects (no models)."""
