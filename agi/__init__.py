"""FastAGI server for the DTMF-only paths the dialplan uses when the ARI application is down."""
