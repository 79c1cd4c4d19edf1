"""WeChat callback protocol: signatures, AES envelopes and message parsing (no Flask)."""
