"""`python -m worker`: the command line."""

from worker.app.cli import main

raise SystemExit(main())
