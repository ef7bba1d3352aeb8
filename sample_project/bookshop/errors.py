"""Domain errors shared by the repositories, the services, the API and the CLI."""


class NotFound(Exception):
    """A book, customer or order that does not exist."""


class OutOfStock(Exception):
    """An order asks for more copies than are in stock."""


class Conflict(Exception):
    """The operation clashes with existing data (duplicate ISBN, order already cancelled)."""
