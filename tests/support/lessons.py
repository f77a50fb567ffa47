"""A realistic Claydon lesson driven through the core, shared by the register and report tests.

Mrs Khan opens at 09:56, pupils wait from 09:57, Mr Lee (the TA) arrives at 10:00 and she admits
everyone waiting at 10:01. Leo and Zoë-Mae come late, Mia is turned away, Isla's connection drops
and she is let back in, Leo is removed, Mr Lee drops for 40 seconds (the room is held), Oliver
leaves at 10:20, and the clock ends the session at 10:30 (CLA-06). Noah never comes; Ava's
family refused consent.
"""

from __future__ import annotations

from safeclass.core import Consent, Role
from safeclass.core import commands as c
from tests.support.rooms import Driver, make_room

ROSTER = [
    ("p1", "Amelia", "Roberts"),
    ("p2", "Siân", "O'Neill"),
    ("p3", "Zoë-Mae", "Evans"),
    ("p4", "Oliver", "Smith"),
    ("p5", "Isla", "Jones"),
    ("p6", "Noah", "Khan"),
    ("p7", "Ava", "Taylor"),
    ("p8", "Leo", "Brown"),
    ("p9", "Mia", "Wilson"),
]


def claydon_lesson(removal_reason: str = "kept unmuting after two reminders") -> Driver:
    d = Driver(make_room("claydon", roster=ROSTER, consent={"p7": Consent.REFUSED}))
    d.at(-4).ok(c.RequestToJoin("t1", Role.TEACHER, "dev-t1", staff_name="Mrs Khan"))
    d.at(-3).pupil_join("p1")
    d.at(-2).pupil_join("p2")
    d.at(-1).pupil_join("p4")
    d.pupil_join("p5")
    d.at(0).ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    d.at(1).ok(c.AdmitAllExpected("t1"))  # waited on time, admitted a minute late: not late
    d.at(2).pupil_join("p8")
    d.at(2, 30).ok(c.Admit("t1", ("p8",)))
    d.at(3).pupil_join("p3")
    d.at(3, 30).ok(c.Admit("t2", ("p3",)))
    d.at(5).pupil_join("p9")
    d.at(5, 30).ok(c.Deny("t1", "p9"))
    d.at(6).ok(c.RaiseHand("p1"))
    d.ok(c.CallOn("t1", "p1"))
    d.at(7).ok(c.CameraOn("t1", "p1"))
    d.ok(c.CameraOff("t1", "p1"))
    d.at(8).ok(c.ConnectionLost("p5", "dev-p5"))
    d.at(9).pupil_join("p5")
    d.at(9, 30).ok(c.Admit("t1", ("p5",)))
    d.at(10).ok(c.SetChat("t1", True))
    d.ok(c.PostChat("p1", "Hello Miss"))
    d.at(11).ok(c.RaiseConcern("t1", "Saw something worrying behind Siân", pupil="p2"))
    d.at(12).ok(c.Remove("t2", "p8", removal_reason))
    d.at(13).ok(c.SetChat("t1", False))
    d.at(15).ok(c.ConnectionLost("t2", "dev-t2"))  # the room is held: 1 of 2 staff
    d.at(15, 40).ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    d.at(20).ok(c.Leave("p4"))
    d.at(25).ok(c.Tick())
    d.at(29).ok(c.Tick())
    d.at(30).ok(c.Tick())  # the time limit: everyone still here is disconnected together
    return d
