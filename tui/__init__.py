"""tahqiq's terminal app, command line and bidi layout engine."""
