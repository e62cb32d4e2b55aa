"""ARI: a thin REST + WebSocket client, typed event models and the reconnect supervisor."""
