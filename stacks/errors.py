"""The one error a broken catalog or stack config produces."""

from __future__ import annotations

import pulumi


class InputError(pulumi.RunError):
    """A catalog file or stack config is wrong; nothing has been registered yet.

    It subclasses `pulumi.RunError` so that `pulumi preview` prints the message alone,
    without the Python traceback the engine shows for unexpected errors.
    """

    def __init__(self, file: str, entry: str, field: str, problem: str) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: {entry}: {field}: {problem}")
