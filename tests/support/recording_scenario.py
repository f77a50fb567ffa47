"""Recording with notice, through safeclass's own server and a real Janus (C13), in a namespace.

Run as root under `unshare -n` (tests/integration/test_recording.py does it), like
live_media_scenario: a real server with media on (its own Janus on the veth's 127.0.0.2) and
aiortc clients that speak only the room's WebSocket protocol, publishing synthetic audio and
video the whole time.

A St Joseph's lesson (STJ-09: record "as long as all participants are informed before recording
begins"): two staff and two pupils, p1 with microphone and camera on, p2 muted with the camera
off. The teacher starts a recording: everyone is told, and nothing is written until the notice
has run; then Janus is killed mid-recording (the recording carries on in the rebuilt room), the
teacher stops it, it is converted to one WebM per participant in the restricted store, and a
second recording is ended by the end of the session. In the same server a Claydon lesson
(CLA-09: never recorded) refuses to record and writes nothing. Then the DSL lists and opens a
recording over HTTP, a teacher cannot, and the retention job deletes the files when their day
comes. Prints one JSON line for the test to assert on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import av

from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.sessions import load_session
from safeclass.app.retention import run_retention
from tests.integration.families import staff_http
from tests.integration.live import LiveServer, staff_cookie
from tests.integration.seed import seed_session
from tests.support.janus_scenario import wait_for
from tests.support.live_media_scenario import TEACHER, Lesson, MediaClient, _ok, main


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def _mjr_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.mjr")) if root.exists() else []


def _probe(path: Path) -> dict[str, Any]:
    """What a media player would find in the file."""
    with av.open(str(path)) as container:
        kinds = sorted(s.type for s in container.streams)
        codecs = sorted(s.codec_context.name for s in container.streams)
        frames = {s.type: 0 for s in container.streams}
        for packet in container.demux():
            if packet.size:
                frames[packet.stream.type] += 1
        seconds = (container.duration or 0) / 1e6
    return {"kinds": kinds, "codecs": codecs, "packets": frames, "seconds": seconds}


_MEDIA_SETTINGS = (
    "media",
    "janus_interface",
    "janus_ice_enforce_list",
    "janus_ignore_mdns",
    "janus_rtp_ports",
)


class RecordedLesson(Lesson):
    preset, pupils = "st-josephs", 3

    async def steps(self) -> None:
        self.root = self.server.settings.data_dir / "recordings"
        await self.class_is_in()
        await self.the_notice_comes_first()
        await self.janus_dies_mid_recording()
        await self.the_recording_is_stopped_and_stored()
        await self.a_restart_mid_recording_loses_nothing()
        await self.a_never_school_cannot_record()
        await self.only_the_dsl_and_head_open_recordings()
        await self.retention_deletes_them()

    async def class_is_in(self) -> None:
        await self.two_adults_and_two_pupils_in()
        _ok(await self.teacher.ws.send("unmute", target="p1"))
        _ok(await self.teacher.ws.send("camera_on", target="p1"))
        names = {p["id"]: p["name"] for p in self.teacher.ws.view()["people"]}
        self.p1.name, self.p2.name = names["p1"], names["p2"]
        self.names = names
        t0 = time.monotonic()
        await wait_for(lambda: self.teacher.count(self.p1.name, "video", t0) > 3, 10, "p1 video")
        await wait_for(lambda: self.p2.count(TEACHER, "video", t0) > 3, 10, "teacher at p2")

    async def the_notice_comes_first(self) -> None:
        seen = {c.name: len(c.ws.messages) for c in self.clients}
        offered = "start_recording" in self.teacher.ws.view()["can"]
        reply = await self.teacher.ws.send("start_recording")

        async def notice(client: MediaClient) -> dict[str, Any]:
            message = await client.ws.wait_for(
                lambda m: any(e["type"] == "RecordingNoticeGiven" for e in m.get("events", [])),
                5,
                start=seen[client.name],
            )
            return {
                "recording": message["view"]["session"]["recording"],
                "view_starts_at": message["view"]["session"]["recording_starts_at"],
                "starts_at": next(
                    e for e in message["events"] if e["type"] == "RecordingNoticeGiven"
                )["starts_at"],
            }

        told = {c.name: await notice(c) for c in self.clients}
        await asyncio.sleep(1.5)  # the notice runs: nothing may be written yet
        during_notice = len(_mjr_files(self.root))
        self.server.clock.advance(dt.timedelta(seconds=10))  # St Joseph's notice: 10 s
        t_on = time.monotonic()
        on = await self.p2.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["recording"] == "on", 5
        )
        await wait_for(lambda: len(_mjr_files(self.root)) >= 6, 5, "recording files")
        self.results["notice"] = {
            "reply": reply["type"],
            "told": sorted(told),
            "views_during_notice": sorted({t["recording"] for t in told.values()}),
            "offered_before": offered,
            "views_say_when_it_starts": all(
                t["view_starts_at"] == t["starts_at"] for t in told.values()
            ),
            "mjr_files_during_notice": during_notice,
            "recording_on_told_p2": on["view"]["session"]["recording"],
            "files_after_start_s": time.monotonic() - t_on,
            "raw_dir_mode": _mode(self.root / "raw"),
        }
        await asyncio.sleep(3.0)

    async def janus_dies_mid_recording(self) -> None:
        pid = self.janus.pid
        seen = len(self.teacher.ws.messages)
        os.kill(pid, signal.SIGKILL)
        await self.teacher.ws.wait_for(lambda m: m["type"] == "media_restart", 15, start=seen)
        t_back = time.monotonic()
        await wait_for(
            lambda: self.teacher.count(self.p1.name, "video", t_back) > 3, 15, "p1 after restart"
        )
        await asyncio.sleep(2.0)
        self.results["restart"] = {"new_janus": self.janus.pid != pid}

    async def the_recording_is_stopped_and_stored(self) -> None:
        seen = {c.name: len(c.ws.messages) for c in self.clients}
        _ok(await self.teacher.ws.send("stop_recording"))
        saved = await self.teacher.ws.wait_for(
            lambda m: m["type"] == "media_notice" and m.get("kind") == "recording_saved",
            60,
            start=seen[self.teacher.name],
        )
        rows = await self.server.services.recordings.list_recordings(self.school)
        now = self.server.clock.now()
        files = {}
        for row in rows:
            probe = _probe(row.path)
            files.setdefault(row.shown_name, []).append(
                {
                    **probe,
                    "row_seconds": row.seconds,
                    "kinds_on_record": list(row.kinds),
                    "mode": _mode(row.path),
                    "dir_mode": _mode(row.path.parent),
                    "size_matches": row.size_bytes == row.path.stat().st_size,
                    "keep_days": round((row.delete_after - now).total_seconds() / 86400),
                }
            )
        self.first_rows = rows
        self.results["stored"] = {
            "notice_message": saved["message"],
            "pupils_told_saved": any(
                m["type"] == "media_notice" and m.get("kind") == "recording_saved"
                for c in (self.p1, self.p2)
                for m in c.ws.messages[seen[c.name] :]
            ),
            "files": files,
            "mjr_left": len(_mjr_files(self.root)),
            "names": self.names,
        }

    async def a_restart_mid_recording_loses_nothing(self) -> None:
        """A second recording; the server stops in the middle of it (every socket goes) and
        starts again; the session's time runs out with nobody back: what was recorded before
        the restart is stored all the same."""
        _ok(await self.teacher.ws.send("start_recording"))
        self.server.clock.advance(dt.timedelta(seconds=10))
        await self.p1.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["recording"] == "on", 5
        )
        await asyncio.sleep(2.0)
        old = self.server
        for client in self.clients:
            await client.close()
        self.clients = []
        await old.stop()
        left_by_the_stop = len(_mjr_files(self.root))
        self.server = LiveServer(
            old.settings.database_url,
            old.settings.data_dir,
            old.clock,
            heartbeat=1.0,
            **{k: getattr(old.settings, k) for k in _MEDIA_SETTINGS},
        )
        await self.server.start()
        restored = [r.session_id for r in self.server.services.rooms.running()]
        self.server.clock.advance(dt.timedelta(minutes=50))  # past St Joseph's 45 minutes

        async def stored() -> int:
            return len(await self.server.services.recordings.list_recordings(self.school))

        for _ in range(300):
            if await stored() > len(self.first_rows):
                break
            await asyncio.sleep(0.1)
        self.results["restart_mid_recording"] = {
            "mjr_files_left_by_the_stop": left_by_the_stop,
            "room_restored": self.session in restored,
            "rows_before": len(self.first_rows),
            "rows_after": await stored(),
            "mjr_left": len(_mjr_files(self.root)),
        }

    async def a_never_school_cannot_record(self) -> None:
        engine = self.server.services.engine
        # the lesson above has ended; the pupils p1.. belong to it (one seeded school per db)
        soon = self.server.clock.now() + dt.timedelta(minutes=2)
        self.session = await seed_session(engine, "claydon", pupils=0, starts_at=soon)

        self.school_claydon = (await load_session(engine, self.session)).school_id
        school, self.school = self.school, self.school_claydon
        teacher = await self.staff("teacher", "Mrs Patel")
        await self.staff("assistant", "Mr Shah")
        _ok(await teacher.publish())
        refused = await teacher.ws.send("start_recording")
        self.school = school
        raw = self.root / "raw" / self.session
        self.results["never"] = {
            "reply": refused["type"],
            "clause": refused.get("clause"),
            "message": refused.get("message"),
            "raw_dir_exists": raw.exists(),
            "recording_view": teacher.ws.view()["session"]["recording"],
        }

    async def only_the_dsl_and_head_open_recordings(self) -> None:
        services = self.server.services
        results: dict[str, Any] = {}
        first = self.first_rows[0]
        for role in ("dsl", "head", "teacher", "assistant", "admin"):
            _, cookie = await staff_cookie(services, self.school, role, f"A {role.title()}")
            async with staff_http(self.server, cookie) as http:
                listed = await http.get("/api/recordings")
                opened = await http.get(f"/api/recordings/{first.id}/file")
                results[role] = {"list": listed.status_code, "open": opened.status_code}
                if role == "dsl":
                    body = listed.json()
                    results["listed"] = len(body)
                    results["listed_fields"] = sorted(body[0])
                    results["listed_names"] = sorted({r["shown_name"] for r in body})
                    results["open"] = {
                        "type": opened.headers.get("content-type"),
                        "cache": opened.headers.get("cache-control"),
                        "same_bytes": opened.content == first.path.read_bytes(),
                    }
                    results["unknown"] = (await http.get("/api/recordings/nope/file")).status_code
        _, other = await staff_cookie(services, self.school_claydon, "dsl", "Other Dsl")
        async with staff_http(self.server, other) as http:
            results["other_school_list"] = len((await http.get("/api/recordings")).json())
            results["other_school_open"] = (
                await http.get(f"/api/recordings/{first.id}/file")
            ).status_code
        journal = await services.event_log.read(self.school)
        results["journalled_openings"] = [
            e.payload["recording"] == first.id for e in journal if e.type == "RecordingOpened"
        ]
        self.results["access"] = results

    async def retention_deletes_them(self) -> None:
        engine = self.server.services.engine
        rows = await self.server.services.recordings.list_recordings(self.school)
        now = self.server.clock.now()
        log = self.server.services.event_log
        early = await run_retention(StoreRetention(engine), now + dt.timedelta(days=29), log)
        late = await run_retention(StoreRetention(engine), now + dt.timedelta(days=31), log)
        self.results["retention"] = {
            "rows": len(rows),
            "deleted_at_29_days": early.recordings_deleted,
            "deleted_at_31_days": late.recordings_deleted,
            "files_left": sum(1 for r in rows if r.path.exists()),
            "listed_after": len(await self.server.services.recordings.list_recordings(self.school)),
            "problems": late.problems,
        }


if __name__ == "__main__":
    main(RecordedLesson, timeout=200)
