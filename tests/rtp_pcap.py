"""Write a caller's side of a call as ONE continuous RTP stream in a pcap, for SIPp's play_pcap_audio.

A-law speech or silence frames (20 ms, PT 8) and RFC 2833 telephone events (PT 101: marker on the
first packet, three end packets) share one sequence-number and timestamp space, which is what makes
Asterisk deliver every digit in order (separate per-digit pcaps restart the stream and lose digits).
Speech comes from the real espeak-ng + sox (``sox -e a-law``).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ALAW_SILENCE = 0xD5
FRAME = 160  # samples (and A-law bytes) per 20 ms
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


def speech_alaw(text: str, voice: str = "vi") -> bytes:
    """Vietnamese speech as 8 kHz A-law bytes, from espeak-ng and sox."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    assert espeak and sox, "espeak-ng and sox are installed by scripts/setup.sh"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run([espeak, "-v", voice, "-w", str(wav), "--", text], check=True, capture_output=True)
        out = subprocess.run(
            [sox, str(wav), "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", "-"],
            check=True,
            capture_output=True,
        )
    return out.stdout


def recording_alaw(path: Path) -> bytes:
    """A recording (WAV or anything sox reads) as 8 kHz A-law bytes: what a phone line carries."""
    sox = shutil.which("sox")
    assert sox, "sox is installed by scripts/setup.sh"
    out = subprocess.run(
        [sox, str(path), "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", "-"],
        check=True,
        capture_output=True,
    )
    return out.stdout


@dataclass
class RtpStream:
    ssrc: int = 0x1022ABCD
    seq: int = 1000
    timestamp: int = 160_000
    time_us: int = 0
    packets: list[tuple[int, bytes]] = field(default_factory=list)  # (time in µs, RTP packet)

    def _rtp(self, pt: int, payload: bytes, marker: bool = False) -> bytes:
        header = struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | pt, self.seq & 0xFFFF, self.timestamp, self.ssrc
        )
        self.seq += 1
        return header + payload

    def audio(self, alaw: bytes) -> RtpStream:
        for i in range(0, len(alaw), FRAME):
            chunk = alaw[i : i + FRAME].ljust(FRAME, bytes([ALAW_SILENCE]))
            self.packets.append((self.time_us, self._rtp(8, chunk)))
            self.timestamp += FRAME
            self.time_us += 20_000
        return self

    def silence(self, seconds: float) -> RtpStream:
        return self.audio(bytes([ALAW_SILENCE]) * int(seconds * 8000))

    def digit(self, digit: str, duration_ms: int = 160, gap_s: float = 0.3) -> RtpStream:
        """One RFC 2833 event: packets every 20 ms with a growing duration, then three end packets."""
        code = EVENT_CODES[digit]
        start_ts = self.timestamp
        steps = duration_ms // 20
        for n in range(1, steps + 1):
            payload = struct.pack("!BBH", code, 10, n * FRAME)
            # every packet of one event carries the event's start timestamp
            self.timestamp = start_ts
            self.packets.append((self.time_us, self._rtp(101, payload, marker=n == 1)))
            self.time_us += 20_000
        for _ in range(3):
            self.timestamp = start_ts
            self.packets.append(
                (self.time_us, self._rtp(101, struct.pack("!BBH", code, 0x80 | 10, steps * FRAME)))
            )
        self.timestamp = start_ts + steps * FRAME
        return self.silence(gap_s)

    def digits(self, keys: str) -> RtpStream:
        for key in keys:
            self.digit(key)
        return self

    def write_pcap(self, path: Path, src_port: int = 6000, dst_port: int = 6001) -> Path:
        """Ethernet/IPv4/UDP/RTP records, as SIPp's play_pcap_audio expects."""
        out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for when, rtp in self.packets:
            udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(rtp), 0) + rtp
            ip = struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(udp),
                0,
                0,
                64,
                17,
                0,
                bytes([127, 0, 0, 1]),
                bytes([127, 0, 0, 1]),
            )
            frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
            out += struct.pack("<IIII", when // 1_000_000, when % 1_000_000, len(frame), len(frame)) + frame
        path.write_bytes(bytes(out))
        return path

    @property
    def duration_s(self) -> float:
        return self.time_us / 1_000_000
