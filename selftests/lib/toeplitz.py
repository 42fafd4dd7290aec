"""Toeplitz hash (Microsoft RSS) for the selftests' checkers, written from the
definition and checked against the published verification suite on import,
so a test never trusts a wrong checker."""
import ipaddress


def toeplitz(key, data):
    k, kl, h = int.from_bytes(key, "big"), len(key) * 8, 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (kl - 32 - (i * 8 + b))) & 0xffffffff
    return h


MS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
                       "ae7b30b477cb2da38030f20c6a42b73bbeac01fa")
_V = (ipaddress.ip_address("66.9.149.187").packed + ipaddress.ip_address("161.142.100.80").packed
      + (2794).to_bytes(2, "big") + (1766).to_bytes(2, "big"))
assert toeplitz(MS_KEY, _V) == 0x51ccc178, "the checker's Toeplitz is wrong"
