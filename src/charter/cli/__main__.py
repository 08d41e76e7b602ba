"""``python -m charter.cli``: the ``charter`` command."""

from charter.cli import main

main()
