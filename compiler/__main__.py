from compiler.commands.cli import main

raise SystemExit(main())
