"""`python -m agent ...` is the `livehost` command (for subprocesses that run this checkout's interpreter)."""

import sys

from agent.app.cli import main

sys.exit(main())
