"""Rasa extensions: NLU components, the localised response generator and the tracker store."""
