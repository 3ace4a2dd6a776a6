from mimo_tui.cli import main

raise SystemExit(main())
