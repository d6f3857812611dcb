"""Exit codes a scheduler can act on."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # all good (warnings allowed)
    FAILED = 1  # a mart or an error-level test failed
    INVALID = 2  # the project or the command line is invalid
    LOCKED = 3  # another run holds the target's lock
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM
