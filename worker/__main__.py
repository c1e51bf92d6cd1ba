"""`python -m worker`: the command line."""

from worker.cli import main

raise SystemExit(main())
