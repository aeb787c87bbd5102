"""Rasa extensions: NLU components, the localised response generator, the tracker and lock
stores. Importing the package (Rasa does, for any of them) also makes Rasa's check of action
server responses cheap (extensions/action_validation.py)."""

from extensions.action_validation import install as _install_action_validation

_install_action_validation()
