#!/usr/bin/env python3
"""One-command main job: ``python run_scenario.py scenarios/<name>.toml [--out DIR] [--quiet]``."""

import sys

from kazerne.scenarios.runner import main

if __name__ == "__main__":
    sys.exit(main())
