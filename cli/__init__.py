"""The `sqla-asyncify` command-line face over the `codemods` library."""
