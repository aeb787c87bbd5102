"""Custom actions, one module per feature. rasa_sdk imports every module here at start-up,
so modules do nothing at import time."""
