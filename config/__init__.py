"""Settings and the data directory's rules, read by every part of the hotline (nothing here imports
another package of the project)."""
