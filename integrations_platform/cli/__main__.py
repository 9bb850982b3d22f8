"""``python -m integrations_platform.cli``."""

from integrations_platform.cli import main

main()
