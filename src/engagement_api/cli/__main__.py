"""`python -m engagement_api.cli` runs the console script."""

from engagement_api.cli.main import main

main()
