"""Headless subcommands of `mimo`."""
