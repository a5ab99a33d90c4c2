try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing: as quiet as later on
    raise SystemExit(0) from None

raise SystemExit(main())
