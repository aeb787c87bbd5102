"""Brücke application package: settings, languages, texts, content checks and services."""
