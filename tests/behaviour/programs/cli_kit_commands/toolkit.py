"""The project's command-line toolkit: click's decorators under the project's own name."""

from click import argument, echo, group

__all__ = ["argument", "echo", "group"]
