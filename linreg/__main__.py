"""`python -m linreg`: the same as the `linreg` command."""

from linreg.cli import main

raise SystemExit(main())
