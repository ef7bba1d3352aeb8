"""Data access. Module functions take the caller's Session; orders also has a class-based
repository (``OrderRepository``) bound to one session."""
