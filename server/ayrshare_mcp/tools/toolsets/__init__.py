"""The toolsets, one module each: its tools declared as data (`TOOLS`), a one-line `SUMMARY`, and optionally the
`INSTRUCTIONS` it adds for clients. Registered by name in `settings.TOOLSETS`; gathered by `tools.catalog`."""
