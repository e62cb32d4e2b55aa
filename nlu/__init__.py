"""Vietnamese understanding: Vosk streaming ASR, normalisers, the Rasa client and the dialogue engine."""
