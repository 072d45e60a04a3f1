"""Errors a user can act on. The CLI prints them as one line and exits 2."""


class HarnessError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 2


class UnknownNameError(HarnessError):
    """A model, task or run name that is not registered."""


def did_you_mean(name: str, candidates: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean X?)' for the closest candidates, or ''."""
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
