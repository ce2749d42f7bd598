"""The one user-facing error type: caught only in the CLI, printed as one line."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class BenchError(Exception):
    """A problem the user can act on: one line of text and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        # Keep the message on one line: it is printed as-is, without a traceback.
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)
