"""`python -m callacct` runs the command-line interface."""

from callacct.cli import main

main()
