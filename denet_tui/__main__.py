from denet_tui.cli import main

raise SystemExit(main())
