"""Code shared by the user, product and gateway Django projects (abstract models only, no tables)."""
