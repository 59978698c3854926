"""Errors raised by the tickd client."""


class TickdError(Exception):
    """Base class of every error the client raises."""


class FrameError(TickdError):
    """The server sent something that is not valid tickd protocol (a corrupt binary
    frame, a malformed JSON message, an unknown record layout version)."""


class ServerError(TickdError):
    """The server answered a request with an `error` message, or closed the connection
    with a `closing` reason. `code` is the protocol's error code (`bad_pattern`,
    `unauthorized`, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectError(TickdError):
    """Could not connect (or reconnect within the allowed attempts)."""


class HistoryError(TickdError):
    """An HTTP history request failed; the message is the server's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
