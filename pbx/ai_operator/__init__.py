"""The AI operator on a live call: the dialogue engine driven by the caller's audio and keypad."""
