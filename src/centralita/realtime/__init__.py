"""Realtime: register → snapshot + last event seq → pushed events → resume after reconnect, no loss."""
