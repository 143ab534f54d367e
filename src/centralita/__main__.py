"""`python -m centralita` is the `centralita` command."""

from centralita.cli import main

main()
