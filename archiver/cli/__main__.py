"""``python -m archiver.cli``: the same as the ``sangrah`` command."""

from archiver.cli import main

main()
