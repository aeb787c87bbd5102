"""The attack suite runs on the Telegram fixtures: the real gateway, the Bot API stand-in
and the real Rasa and action servers."""

from tests.telegram.conftest import gateway, rasa_server, stub  # noqa: F401
