class StackError(Exception):
    """A problem the person running the bootstrap can act on; printed as one line, never as a traceback."""
