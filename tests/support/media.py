"""Recordings as the browser's recorder gives them."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A short WAV recording (a 440 Hz tone), as the browser's recorder gives."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(int(seconds * rate))))
    return buf.getvalue()
