"""Speech to text with Vosk: one shared model, one streaming recognizer per call, per-slot grammars,
end-of-utterance detection, and the model downloader."""
