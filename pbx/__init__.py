"""Telephony: Asterisk installation and configuration, the ARI client, call control and AudioSocket media."""
