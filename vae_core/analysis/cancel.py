"""The one exception long work raises when its caller asked it to stop (torch-free)."""


class Cancelled(Exception):
    """The caller asked this work to stop; nothing was stored."""
