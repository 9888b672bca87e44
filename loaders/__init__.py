"""Loaders: one module per input format, each turning source files into validated canonical records."""
