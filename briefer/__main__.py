"""``python -m briefer``: the command line."""

from briefer.cli import main

main()
