"""The one exception type for problems a user can cause and fix.

The CLI turns it into ``seedchip: error: <message>`` on stderr and exit status 2;
any other exception is a bug in seedchip and keeps its traceback.
"""


class SeedchipError(Exception):
    """Bad input: unknown name, malformed file or value, shapes that do not fit."""
