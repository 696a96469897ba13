"""The bounds of what crosses the wire, each defined once."""

MAX_MESSAGE_BYTES = 2**20
"""No message from the kernel carries more buffer bytes than this (1 MiB), unless ``stream=False``:
hosted notebooks' proxies drop larger ones."""

MAX_REQUEST_ID = 2**53 - 1
"""Request ids are JavaScript-safe integers."""
