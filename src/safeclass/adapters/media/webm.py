"""One WebM from a participant's converted tracks: packets copied (no re-encoding), aligned.

Run as a child process by `recordings` (`python -m safeclass.adapters.media.webm SPEC TARGET`,
SPEC a JSON list of `{"path": ..., "shift_s": ...}`; prints the length in seconds), so that a
file the media library cannot cope with costs one conversion, not the server. PyAV is imported
only here.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any


def mux(parts: list[tuple[Path, float]], target: Path) -> float:
    """Copy each part's stream into one WebM, shifted by `shift_s` (when its first packet came,
    after the earliest part's) and interleaved by time, so nothing is held in memory; the
    length in seconds. The file is written beside `target` and renamed when whole (0600)."""
    import av

    partial = target.with_suffix(".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    end = 0.0
    with av.open(str(partial), "w", format="webm") as out:
        inputs = [av.open(str(path)) for path, _ in parts]
        try:
            # every stream is added before the first packet is written (the header)
            copies = [out.add_stream_from_template(source.streams[0]) for source in inputs]

            def timed(shift: float, source: Any, copy: Any) -> Iterator[tuple[float, Any, Any]]:
                for packet in source.demux(source.streams[0]):
                    if packet.dts is None:
                        continue
                    base = packet.time_base or Fraction(1, 1000)
                    ticks = round(shift / base)
                    packet.pts = (packet.pts if packet.pts is not None else packet.dts) + ticks
                    packet.dts += ticks
                    yield float(packet.dts * base), packet, copy

            shifts = [shift for _, shift in parts]
            streams = (timed(*each) for each in zip(shifts, inputs, copies, strict=True))
            for at, packet, copy in heapq.merge(*streams, key=lambda item: item[0]):
                end = max(end, at + float((packet.duration or 0) * (packet.time_base or 0)))
                packet.stream = copy
                out.mux(packet)
        finally:
            for source in inputs:
                source.close()
    partial.replace(target)
    target.chmod(0o600)
    return end


def main(argv: list[str]) -> int:
    spec, target = json.loads(argv[0]), Path(argv[1])
    seconds = mux([(Path(p["path"]), float(p["shift_s"])) for p in spec], target)
    print(f"{seconds:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
