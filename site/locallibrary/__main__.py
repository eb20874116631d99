"""`python -m locallibrary` runs the command-line interface."""

from locallibrary.cli import main

main()
