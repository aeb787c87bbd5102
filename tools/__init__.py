"""Developer tools around Rasa: training with a data fingerprint, running, evaluating."""
