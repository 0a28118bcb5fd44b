"""The command line: flags derived from Settings (flags.py), `nnserve models` (inventory.py),
and the `nnserve` entry point that serves or lists (command.py)."""
