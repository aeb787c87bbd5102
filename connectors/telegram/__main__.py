"""`python -m connectors.telegram`: run the gateway."""

from connectors.telegram.app import main

raise SystemExit(main())
