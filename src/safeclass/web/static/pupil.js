// @ts-check
/**
 * The pupil's page (templates/pupil_room.html): what the room's view says, shown to a child.
 *
 * The room client (`room-client.js`) holds the socket; this module only shows the part of the
 * page the pupil's view calls for (agree and join, the waiting screen, the class, the whole-screen
 * "waiting for another adult" while the room is held, the end) and
 * sends what the child asks for. It offers only what the view's `can` lists, and has no words
 * of its own: they come, in the page's language, from the page's `#words` data block. What the
 * server writes for the pupil (a refusal's `message`) is shown as it comes.
 */

import { RoomClient } from "./room-client.js";
import { chatLines, act as send, el, pageWords, say } from "./room-page.js";
import { pupilVideo } from "./pupil-video.js";

/** @typedef {import("./room-client.js").Message} Message */
/** @typedef {import("./room-client.js").ClosedReport} ClosedReport */

const doc = document;
const root = /** @type {HTMLElement} */ (doc.getElementById("pupil"));
/** @type {Record<string, any>} */
const words = pageWords();

const SCREENS = ["connecting", "before", "waiting", "held", "room", "over"];
let screen = "connecting";
let joining = false;
let reconnectingShown = false;
/** server time minus this machine's, in ms: the warnings follow the server's clock */
let skew = 0;
/** @type {any} the latest session facts */
let session = null;
const addChat = chatLines();

/**
 * Show one screen; focus its heading when it changes (so a screen reader starts there).
 * @param {string} name
 */
function show(name) {
  if (name === screen) {
    return;
  }
  const first = screen === "connecting";
  screen = name;
  for (const other of SCREENS) {
    el(`screen-${other}`).hidden = other !== name;
  }
  const heading = {
    waiting: "waiting-heading",
    held: "held-heading",
    room: "room-heading",
    over: "over-message",
  }[name];
  if (heading && !first) {
    el(heading).focus();
  }
}

/**
 * A list's items, replaced.
 * @param {string} id
 * @param {string[]} lines
 */
function fillList(id, lines) {
  const list = el(id);
  list.replaceChildren(
    ...lines.map((line) => {
      const item = doc.createElement("li");
      item.textContent = line;
      return item;
    }),
  );
}

const room = new RoomClient(root.dataset.session || "");
const video = pupilVideo(room);

room.on("state", ({ view, events, now }) => {
  if (screen === "over") {
    return;
  }
  if (now) {
    skew = Date.parse(now) - Date.now();
  }
  if (reconnectingShown) {
    say("latest-notice", "");
    reconnectingShown = false;
  }
  render(view);
  for (const event of events || []) {
    announce(event);
  }
});

room.on("closed", (/** @type {ClosedReport} */ closed) => {
  if (closed.reconnecting) {
    reconnectingShown = true;
    say("latest-notice", words.reconnecting);
    return;
  }
  if (closed.reason === "closed_by_page") {
    return;
  }
  const text = words[closed.reason] || words.stopped;
  for (const id of ["hold-notice", "time-notice", "recording-notice", "latest-notice"]) {
    say(id, "");
  }
  say("over-message", text);
  // 4004 also means consent withdrawn: only the server's words say which
  const detail = closed.reason === "denied" ? closed.message : "";
  // a removed child's parent needs the next step
  const next = closed.reason === "removed" ? words.removed_next : "";
  say("over-detail", next || (detail && detail !== text ? detail : ""));
  // opening the class again here takes it back from the other tab (or tries once more)
  el("over-again").hidden = !["opened_elsewhere", "gave_up"].includes(closed.reason);
  show("over");
});

/**
 * Everything on the page from the pupil's view.
 * @param {any} view
 */
function render(view) {
  session = view.session;
  say("lesson-title", session.title);
  const hold = session.hold;
  const holdText = hold ? words[hold.reason] || hold.message : "";
  const me = view.me;
  const held = Boolean(me && me.status === "admitted" && hold);
  // held in the class: the whole screen says so (its heading takes the focus, so it is heard)
  sayOnce("hold-notice", held ? "" : holdText);
  /** @type {Record<string, string>} */
  const recording = { notice: words.recording_notice, on: words.recording };
  sayOnce("recording-notice", recording[session.recording] || "");
  el("recording-notice").classList.toggle("recording-now", session.recording === "on");
  tick();
  if (held) {
    if (screen !== "held") {
      say("latest-notice", ""); // "The chat is on" means nothing on a screen with no chat
    }
    say("held-heading", holdText);
    el("parent-back").hidden = !(hold.reason === "parent_absent" && view.can.includes("parent_present"));
    show("held");
  } else if (me && me.status === "admitted") {
    renderRoom(view);
    show("room");
  } else if (me && me.status === "waiting") {
    const parentLater =
      view.can.includes("parent_present") &&
      !me.parent_present &&
      view.expectations &&
      view.expectations.parent_in_room;
    el("parent-later").hidden = !parentLater;
    show("waiting");
  } else if (!joining) {
    renderBefore(view);
    show("before");
  }
  if (view.chat) {
    for (const line of view.chat) {
      addChat(line);
    }
  }
  video.render(view);
}

/**
 * Show `text` in the element `id` unless it says so already (a live region would say it again).
 * @param {string} id
 * @param {string} text
 */
function sayOnce(id, text) {
  if (el(id).textContent !== text || el(id).hidden === Boolean(text)) {
    say(id, text);
  }
}

/** The policy's warning ("5 minutes left") once its time has come, on the server's clock. */
function tick() {
  if (!session || screen === "over" || session.phase === "ended") {
    return;
  }
  const left = (Date.parse(session.ends_at) - (Date.now() + skew)) / 1000;
  const due = session.phase === "live" ? session.warnings_minutes.filter((/** @type {number} */ m) => left <= m * 60) : [];
  sayOnce("time-notice", due.length && left > 0 ? words.minutes_left[String(Math.min(...due))] || "" : "");
}
setInterval(tick, 1000);

/** @param {any} view */
function renderBefore(view) {
  const rules = view.expectations;
  if (rules) {
    fillList("pupil-rules-list", rules.pupil);
    fillList("parent-rules-list", rules.parent);
    el("pupil-rules").hidden = rules.pupil.length === 0;
    el("parent-rules").hidden = rules.parent.length === 0;
    el("agree-field").hidden = !rules.must_tick;
    el("parent-field").hidden = !rules.parent_in_room;
    say("parent-note", rules.parent_note || "");
  }
  const notYet = view.cannot.join;
  say("join-not-yet", notYet ? notYet.message : "");
  /** @type {HTMLButtonElement} */ (el("join")).disabled = !view.can.includes("join");
}

/** @param {any} view */
function renderRoom(view) {
  const me = view.me;
  const people = el("people");
  const everyone = [{ ...me, role: "pupil", you: true }, ...view.in_the_room];
  people.replaceChildren(
    ...everyone.map((person) => {
      const item = doc.createElement("li");
      const name = doc.createElement("span");
      name.className = "name";
      name.textContent = person.name;
      item.append(name);
      const about = [];
      if (person.you) {
        about.push(words.you);
      } else if (person.role === "staff") {
        about.push(words[`staff_${person.staff_role}`] || words.staff);
      }
      if (person.hand_up) {
        about.push(words.hand_up);
      }
      if (about.length) {
        const tag = doc.createElement("span");
        tag.className = "about";
        tag.textContent = ` (${about.join(", ")})`;
        item.append(tag);
      }
      return item;
    }),
  );
  const focused = doc.activeElement;
  // my own microphone and camera, as far as the room lets me now (offered in `can` about me)
  for (const [id, type] of MY_MEDIA) {
    el(id).hidden = !view.can.includes(type);
  }
  if (focused instanceof HTMLElement && focused.closest(".my-media") && focused.hidden) {
    const twin = MY_MEDIA.find(([id]) => id !== focused.id && id.slice(0, 6) === focused.id.slice(0, 6));
    const next = twin && !el(twin[0]).hidden ? el(twin[0]) : el("room-heading");
    next.focus();
  }
  el("raise-hand").hidden = !view.can.includes("raise_hand");
  el("hand-is-up").hidden = !me.hand_up;
  el("lower-hand").hidden = !(me.hand_up && view.can.includes("lower_hand"));
  // the hand button pressed is gone: keep the keyboard's place on its other half
  if (focused instanceof HTMLElement && focused.closest(".hand") && focused.hidden) {
    const next = [el("lower-hand"), el("raise-hand")].find((button) => !button.hidden);
    (next || el("room-heading")).focus();
  }
  const chatOn = view.session.chat_on;
  el("chat").hidden = !chatOn;
  /** @type {HTMLButtonElement} */ (el("chat-form").querySelector("button")).disabled =
    !view.can.includes("chat");
}


/**
 * A notice for an event of the room, said in the status region.
 * @param {Message} event
 */
function announce(event) {
  /** @type {string} */
  let text = "";
  switch (event.type) {
    case "TimeWarning": // kept in its own line: a later notice must not hide it
      sayOnce("time-notice", words.minutes_left[String(event.minutes_left)] || "");
      return;
    case "MicMuted":
      text = event.by_you ? "" : words.muted;
      break;
    case "MicUnmuted":
      text = event.by_you ? "" : words.unmuted;
      break;
    case "CameraTurnedOff":
      text = event.by_you ? "" : words.camera_off;
      break;
    case "CameraTurnedOn":
      text = event.by_you ? "" : words.camera_on;
      break;
    case "SpeakingAllowed":
    case "PupilCalledOn":
      text = words.may_speak;
      break;
    case "ChatSwitched":
      text = event.on ? words.chat_on : words.chat_off;
      break;
    case "RecordingStopped": // the notice and the recording itself are lines of their own
      text = words.recording_stopped;
      break;
    case "ChatPosted":
      addChat(/** @type {any} */ (event));
      return;
    default:
      return;
  }
  if (text) {
    say("latest-notice", text);
  }
}

/**
 * Send a message; a refusal's words go to `problemId`.
 * @param {string} type
 * @param {Record<string, any>} fields
 * @param {string} problemId
 * @returns {Promise<boolean>}
 */
async function act(type, fields, problemId) {
  return send(room, type, fields, problemId, words.try_again);
}

el("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const agree = /** @type {HTMLInputElement} */ (el("agree"));
  const mustTick = !el("agree-field").hidden;
  if (mustTick && !agree.checked) {
    el("agree-field").classList.add("field-error");
    el("agree-error").hidden = false;
    agree.focus();
    return;
  }
  el("agree-field").classList.remove("field-error");
  el("agree-error").hidden = true;
  /** @type {Record<string, any>} */
  const fields = { acknowledged_expectations: mustTick ? true : agree.checked };
  if (!el("parent-field").hidden) {
    fields.parent_present = /** @type {HTMLInputElement} */ (el("parent-present")).checked;
  }
  const button = /** @type {HTMLButtonElement} */ (el("join"));
  joining = true;
  button.disabled = true;
  const joined = await act("join", fields, "join-problem");
  joining = false;
  button.disabled = false;
  if (joined && room.view) {
    render(room.view);
  }
});

/** My participant id: the protocol's self-commands name it. */
function myId() {
  return room.welcome ? String(room.welcome.you) : "";
}

el("parent-now").addEventListener("click", () => {
  act("parent_present", { pupil: myId(), present: true }, "join-problem");
});

el("parent-back").addEventListener("click", () => {
  act("parent_present", { pupil: myId(), present: true }, "held-problem");
});

// the buttons for my own microphone and camera, and the command each sends about me
/** @type {[string, string][]} */
const MY_MEDIA = [
  ["my-mic-on", "unmute"],
  ["my-mic-off", "mute"],
  ["my-camera-on", "camera_on"],
  ["my-camera-off", "camera_off"],
];
for (const [id, type] of MY_MEDIA) {
  el(id).addEventListener("click", () => {
    act(type, { target: myId() }, "my-media-problem");
  });
}

el("raise-hand").addEventListener("click", () => {
  act("raise_hand", {}, "hand-problem");
});

el("lower-hand").addEventListener("click", () => {
  act("lower_hand", { pupil: myId() }, "hand-problem");
});

el("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (el("chat-text"));
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  if (await act("chat", { text }, "chat-problem")) {
    input.value = "";
  }
  input.focus();
});

el("over-again").addEventListener("click", () => {
  globalThis.location.reload();
});

room.connect();
