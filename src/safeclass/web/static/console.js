// @ts-check
/**
 * The staff console (templates/console.html): what the staff view says, for the adults running
 * the room.
 *
 * The room client (`room-client.js`) holds the socket; this module shows the staffing line, the
 * time left with the policy's warnings, the waiting room with what the room knows of each person
 * waiting, who is in the room with their controls, the hands in order, the chat, the recording,
 * a concern to the safeguarding lead, the class list and the end buttons, and sends what the
 * member of staff asks for. A button is shown only where the view's `can` (or
 * `can_for`, per pupil) offers it; otherwise the room's own reason (`cannot`) is shown in its
 * place. The module has no words of its own: they come from the page's `#words` data block.
 */

import { RoomClient } from "./room-client.js";
import { chatLines, act as send, el, pageWords, say } from "./room-page.js";
import { consoleVideo } from "./console-video.js";
import { ScreenShare } from "./screen-share.js";
import { sessionNotes } from "./console-notes.js";

/** @typedef {import("./room-client.js").ClosedReport} ClosedReport */

const doc = document;
const root = /** @type {HTMLElement} */ (doc.getElementById("console"));
/** @type {Record<string, any>} */
const words = pageWords();

/**
 * A word with its `{name}` places filled.
 * @param {string} key
 * @param {Record<string, string | number>} values
 */
function fill(key, values) {
  /** @type {string} */
  const word = words[key] || "";
  return word.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

const room = new RoomClient(root.dataset.session || "");
// the parts shown once this member of staff is in the room
const PARTS = [
  "join-part",
  "waiting-part",
  "room-part",
  "chat-part",
  "recording-part",
  "concern-part",
  "notes-part",
  "class-part",
  "end-part",
];
const video = consoleVideo(room);
const screen = new ScreenShare(room, {
  button: /** @type {HTMLButtonElement} */ (el("screen-share")),
  why: el("screen-why"),
  problem: el("screen-problem"),
  words,
});
let over = false;
let reconnectingShown = false;
/** @type {any} */
let latest = null;
/** server time minus this machine's, in ms: the countdown runs on the server's clock */
let skew = 0;
/** @type {string} the pupil the remove form is for */
let removing = "";
const showChat = chatLines();
// the session log: notes, rewards and incidents (console-notes.js)
const notes = sessionNotes(words, act);

room.on("state", ({ view, now, events }) => {
  if (over) {
    return;
  }
  if (reconnectingShown) {
    say("latest-notice", "");
    reconnectingShown = false;
  }
  if (now) {
    skew = Date.parse(now) - Date.now();
  }
  latest = view;
  render(view);
  for (const event of events || []) {
    announce(event, view);
  }
  video.render(view);
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
  over = true;
  for (const id of PARTS) {
    el(id).hidden = true;
  }
  for (const id of ["time-left", "staffing-why", "recording-on"]) {
    el(id).hidden = true;
  }
  for (const id of ["latest-notice", "time-notice", "recording-notice"]) {
    say(id, "");
  }
  say("over-message", words[closed.reason] || words.stopped);
  el("over-part").hidden = false;
  el("over-message").focus();
});

/**
 * A button that sends `type` when pressed.
 * @param {string} label
 * @param {string} key names it, so the keyboard keeps its place when the list is redrawn
 * @param {() => void} onClick
 * @param {string} [kind]
 */
function button(label, key, onClick, kind = "") {
  const made = doc.createElement("button");
  made.type = "button";
  made.className = `button ${kind}`.trim();
  made.textContent = label;
  made.dataset.key = key;
  made.addEventListener("click", onClick);
  return made;
}

/**
 * A list item: a name, what is worth knowing about them, then their buttons.
 * @param {string} name
 * @param {string[]} about
 * @param {HTMLElement[]} after
 */
function item(name, about, after) {
  const line = doc.createElement("li");
  const who = doc.createElement("span");
  who.className = "name";
  who.textContent = name;
  line.append(who);
  if (about.length) {
    const tag = doc.createElement("span");
    tag.className = "about";
    tag.textContent = ` (${about.join(", ")})`;
    line.append(tag);
  }
  if (after.length) {
    const actions = doc.createElement("div");
    actions.className = "console-actions";
    actions.append(...after);
    line.append(actions);
  }
  return line;
}

/**
 * The room's reason, beside where a button would be.
 * @param {string} text
 */
function whyNot(text) {
  const why = doc.createElement("p");
  why.className = "why-not";
  why.textContent = text;
  return why;
}

/**
 * The room's reason with the clause it protects: "Recording is switched off in this school's
 * policy (CLA-09)".
 * @param {{message: string, clause?: string}} reason
 */
function because(reason) {
  return reason.clause ? `${reason.message} (${reason.clause})` : reason.message;
}

// What takes the keyboard's place when the button pressed is gone (its other half).
/** @type {Record<string, string>} */
const OTHER_HALF = {
  mute: "unmute",
  unmute: "mute",
  camera_off: "camera_on",
  camera_on: "camera_off",
  allow_to_speak: "unmute",
};

// A pupil's controls, in order, each with the field naming the pupil.
const PUPIL_CONTROLS = [
  ["mute", "target"],
  ["unmute", "target"],
  ["allow_to_speak", "pupil"],
  ["camera_off", "target"],
  ["camera_on", "target"],
];

/**
 * What the room knows of a person waiting, in words: every one waiting is on the class list
 * (the room turns anyone else away at the door), their consent on record, whether their link is
 * also open on another device, and in a 1-to-1 whether a parent has said they are in the room.
 * @param {any} view
 * @param {string} id
 * @param {any} person
 * @returns {string[]}
 */
function badges(view, id, person) {
  const out = [];
  const listed = view.expected.find((/** @type {any} */ p) => p.id === id);
  if (listed) {
    out.push(words.on_list);
    if (listed.consent === "given") {
      out.push(words.consent_given);
    } else if (listed.consent === "implied") {
      out.push(words.consent_implied);
    }
  }
  if (view.other_devices.includes(id)) {
    out.push(words.other_device);
  }
  if (view.session.kind === "one_to_one" && person) {
    out.push(person.parent_present ? words.parent_here : words.parent_not_yet);
  }
  return out;
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

/**
 * The chat: its switch, the messages so far and the box to send one.
 * @param {any} view
 */
function renderChat(view) {
  const { can, cannot } = view;
  const on = view.session.chat_on;
  say("chat-state", on ? words.chat_is_on : words.chat_is_off);
  const swap = can.includes("chat_on") ? "chat_on" : can.includes("chat_off") ? "chat_off" : "";
  const switcher = el("chat-switch");
  switcher.hidden = !swap;
  switcher.textContent = swap === "chat_on" ? words.chat_switch_on : words.chat_switch_off;
  switcher.dataset.send = swap;
  if (view.chat) {
    for (const line of view.chat) {
      addChat(line);
    }
  }
  el("chat-form").hidden = !can.includes("chat");
  // the room's reason only while the chat is on (off, the switch says what to do)
  say("chat-why", on && !can.includes("chat") && cannot.chat ? because(cannot.chat) : "");
}

/** @param {{number: number, name: string, text: string}} line */
function addChat(line) {
  showChat(line);
  el("no-chat").hidden = true;
}

/**
 * The recording: offered only where the room says it may start now, with its reason otherwise.
 * @param {any} view
 */
function renderRecording(view) {
  const { can, cannot } = view;
  const state = view.session.recording;
  const offered = can.includes("start_recording") || can.includes("stop_recording");
  el("recording-part").hidden = el("recording-part").hidden || !(offered || state !== "off" || cannot.start_recording);
  el("start-recording").hidden = !can.includes("start_recording");
  el("recording-how").hidden = !can.includes("start_recording");
  el("stop-recording").hidden = !can.includes("stop_recording");
  say("recording-why", state === "off" && cannot.start_recording ? because(cannot.start_recording) : "");
  el("recording-on").hidden = state !== "on";
  el("recording-on").textContent = words.recording_now;
  const notice = state === "notice" ? words.recording_told : state === "on" ? words.recording_started : "";
  sayOnce("recording-notice", notice);
}

/**
 * The button with this key, as it is on the page now (the lists are redrawn as the room changes).
 * @param {string} key
 * @returns {HTMLElement | null}
 */
function findKey(key) {
  return /** @type {HTMLElement | null} */ (root.querySelector(`[data-key="${CSS.escape(key)}"]`));
}

/**
 * The concern form's list of pupils (the class list), kept as it is while nothing changes.
 * @param {any} view
 */
function renderConcern(view) {
  el("concern-part").hidden = el("concern-part").hidden || !view.can.includes("concern");
  const box = el("concern-pupils");
  /** @type {string[][]} */
  const wanted = view.expected.map((/** @type {any} */ p) => [p.id, p.name]);
  const have = [...box.querySelectorAll("input")].map((input) => [input.value, input.dataset.name]);
  if (JSON.stringify(have) !== JSON.stringify(wanted)) {
    const ticked = new Set(
      [...box.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value),
    );
    box.replaceChildren(
      ...wanted.map(([value, text], n) => {
        const row = doc.createElement("div");
        row.className = "check";
        const input = doc.createElement("input");
        input.type = "checkbox";
        input.id = `concern-pupil-${n}`;
        input.value = value;
        input.dataset.name = text;
        input.checked = ticked.has(value);
        const label = doc.createElement("label");
        label.htmlFor = input.id;
        label.textContent = text;
        row.append(input, label);
        return row;
      }),
    );
  }
}

/**
 * The class list: everyone expected, whether they are here, and who may not take part.
 * @param {any} view
 */
function renderClassList(view) {
  el("class-list").replaceChildren(
    ...view.expected.map((/** @type {any} */ pupil) => {
      const about = [];
      if (!pupil.may_take_part) {
        about.push(pupil.consent === "refused" ? words.opted_out : words.no_consent);
      } else {
        about.push(words[`status_${pupil.status}`] || pupil.status);
      }
      return item(pupil.name, about, []);
    }),
  );
}

/**
 * What just happened, said in the status region: the room's events, in this page's words.
 * @param {any} event
 * @param {any} view
 */
function announce(event, view) {
  /** @param {string} id */
  const nameOf = (id) => {
    const person =
      view.people.find((/** @type {any} */ p) => p.id === id) ||
      view.expected.find((/** @type {any} */ p) => p.id === id);
    return person ? person.name : "";
  };
  /** @type {string} */
  let text = "";
  switch (event.type) {
    case "ChatPosted":
      addChat(event);
      return;
    case "ChatSwitched":
      text = event.on ? words.chat_switched_on : words.chat_switched_off;
      break;
    case "RecordingStopped":
      text = words.recording_stopped;
      break;
    case "MicMuted":
      text = fill("muted_who", { name: nameOf(event.target) });
      break;
    case "MicUnmuted":
      text = fill("unmuted_who", { name: nameOf(event.target) });
      break;
    case "SpeakingAllowed":
    case "PupilCalledOn":
      text = fill("may_speak_who", { name: nameOf(event.pupil) });
      break;
    case "CameraTurnedOff":
      text = fill("camera_off_who", { name: nameOf(event.target) });
      break;
    case "CameraTurnedOn":
      text = fill("camera_on_who", { name: nameOf(event.target) });
      break;
    case "ConsentChanged":
      // a family's withdrawal through their link, or the office's records (C17, C23)
      if (event.consent !== "refused") {
        return;
      }
      text = fill(event.source === "parent, by link" ? "withdrawn_by_family_who" : "consent_refused_who", {
        name: nameOf(event.pupil),
      });
      break;
    default:
      return;
  }
  if (text) {
    say("latest-notice", text);
  }
}

/**
 * Everything on the page from the staff view.
 * @param {any} view
 */
function render(view) {
  const focused = doc.activeElement instanceof HTMLElement ? doc.activeElement.dataset.key : "";
  const { can, cannot } = view;
  /** @type {Record<string, string[]>} */
  const canFor = view.can_for;
  /** @type {Map<string, any>} */
  const byId = new Map(view.people.map((/** @type {any} */ p) => [p.id, p]));
  /** @param {string} id */
  const nameOf = (id) =>
    (byId.get(id) || view.expected.find((/** @type {any} */ p) => p.id === id) || { name: id }).name;

  const staffing = view.staffing;
  const short = staffing.staff_present < staffing.staff_required;
  const staffLine = el("staffing");
  staffLine.textContent = fill("staff_present", {
    present: staffing.staff_present,
    required: staffing.staff_required,
  });
  const hold = view.session.hold;
  // one adult where the policy allows it (CRO-04) is not the rule failing: pupils come in two
  // or more at a time; the room's own refusals say so beside each pupil
  const alone =
    staffing.single_adult_fallback && staffing.staff_present === 1 && view.session.kind !== "one_to_one";
  const fails = (short && !alone) || (hold && hold.reason === "staff_below_minimum");
  staffLine.classList.toggle("staffing-fails", Boolean(fails));
  // why, in words (never by the colour alone): the hold, else the room's refusal, else the rule
  const reason = hold || (fails ? cannot.admit_all || cannot.admit : null);
  const why = reason
    ? because(reason)
    : fails
      ? fill("staff_short", { required: staffing.staff_required })
      : short && alone
        ? words.single_adult
        : "";
  say("staffing-why", why);
  el("staffing-why").classList.toggle("error-message", Boolean(hold || fails));
  el("staffing-why").classList.toggle("hint", !(hold || fails));
  tick();

  const joinable = can.includes("join");
  el("join-part").hidden = !joinable;
  say("join-problem", joinable && cannot.join ? cannot.join.message : el("join-problem").textContent || "");

  // the waiting room
  el("waiting-part").hidden = joinable;
  const waiting = view.waiting;
  el("nobody-waiting").hidden = waiting.length > 0;
  el("waiting").replaceChildren(
    ...waiting.map((/** @type {string} */ id) => {
      const allowed = canFor[id] || [];
      const after = [];
      if (allowed.includes("admit")) {
        after.push(button(words.admit, `admit:${id}`, () => act("admit", { pupils: [id] }, "waiting-problem")));
      } else if (cannot.admit || cannot.admit_all) {
        after.push(whyNot(because(cannot.admit || cannot.admit_all)));
      }
      if (allowed.includes("deny")) {
        after.push(button(words.deny, `deny:${id}`, () => act("deny", { pupil: id }, "waiting-problem"), "secondary"));
      }
      return item(nameOf(id), badges(view, id, byId.get(id)), after);
    }),
  );
  const everyone = can.includes("admit_all");
  el("admit-all").hidden = !everyone;
  // the room's reason once: not again under the list when each pupil already shows it
  const rowsSayWhy = Boolean(root.querySelector("#waiting .why-not"));
  const whyAll = !everyone && waiting.length && cannot.admit_all ? because(cannot.admit_all) : "";
  say("admit-all-why", rowsSayWhy ? "" : whyAll);

  // in the room
  el("room-part").hidden = joinable;
  for (const id of ["chat-part", "recording-part", "concern-part", "notes-part", "class-part"]) {
    el(id).hidden = joinable;
  }
  const inRoom = view.people.filter((/** @type {any} */ p) => p.status === "admitted");
  el("in-room").replaceChildren(
    ...inRoom.map((/** @type {any} */ person) => {
      const allowed = canFor[person.id] || [];
      const about = [];
      if (person.id === view.you) {
        about.push(words.you);
      } else if (words[`role_${person.role}`]) {
        about.push(words[`role_${person.role}`]);
      }
      if (person.role === "pupil") {
        if (!person.mic_on) {
          about.push(words.mic_off);
        }
        if (!person.mic_on && person.mic_allowed) {
          about.push(words.may_speak);
        }
        if (!person.camera_on) {
          about.push(words.camera_is_off);
        }
      }
      if (person.hand_raised_at) {
        about.push(words.hand_up);
      }
      if (view.other_devices.includes(person.id)) {
        about.push(words.other_device);
      }
      const after = [];
      // in this order on every row, so the keyboard meets them the same way each time
      for (const [type, field] of PUPIL_CONTROLS) {
        if (allowed.includes(type)) {
          const key = `${type}:${person.id}`;
          // muting a pupil whose microphone is off but who may speak takes that permission back
          const label = type === "mute" && !person.mic_on ? words.take_back_speaking : words[type];
          after.push(button(label, key, () => act(type, { [field]: person.id }, "room-problem"), "secondary"));
        }
      }
      if (person.role === "pupil" && can.includes("note")) {
        const key = `note:${person.id}`;
        after.push(button(words.note_button, key, () => notes.open(person.id, "reward", findKey(key)), "secondary"));
      }
      if (allowed.includes("remove")) {
        after.push(button(words.remove, `remove:${person.id}`, () => askWhy(person.id, person.name), "warning"));
      }
      return item(person.name, about, after);
    }),
  );
  if (removing && !(canFor[removing] || []).includes("remove")) {
    closeRemove();
  }
  const hands = view.hands;
  el("no-hands").hidden = hands.length > 0;
  el("hands").replaceChildren(
    ...hands.map((/** @type {string} */ id) => {
      const allowed = canFor[id] || [];
      const after = allowed.includes("call_on")
        ? [button(words.call_on, `call_on:${id}`, () => act("call_on", { pupil: id }, "room-problem"))]
        : [];
      return item(nameOf(id), [], after);
    }),
  );

  renderChat(view);
  renderRecording(view);
  renderConcern(view);
  notes.render(view);
  renderClassList(view);
  screen.show(view);

  el("end-part").hidden = !(can.includes("end") || can.includes("emergency_end"));
  el("end").hidden = !can.includes("end");
  el("emergency").hidden = !can.includes("emergency_end");

  if (focused) {
    /** @param {string} key */
    const find = (key) => /** @type {HTMLElement | null} */ (root.querySelector(`[data-key="${CSS.escape(key)}"]`));
    const [type, who] = focused.split(":");
    // the same button; else its other half (Mute after Unmute); else the pupil's first control
    const again =
      find(focused) ||
      (who && OTHER_HALF[type] ? find(`${OTHER_HALF[type]}:${who}`) : null) ||
      (who ? /** @type {HTMLElement | null} */ (root.querySelector(`#in-room [data-key$=":${CSS.escape(who)}"]`)) : null);
    if (again && doc.activeElement !== again) {
      again.focus();
    }
  }
}

/** The time left to the end (or to the start), from the server's clock, every second. */
function tick() {
  if (!latest || over) {
    return;
  }
  const now = Date.now() + skew;
  const starts = Date.parse(latest.session.starts_at);
  const ends = Date.parse(latest.session.ends_at);
  const before = now < starts;
  const left = Math.max(0, Math.ceil(((before ? starts : ends) - now) / 1000));
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = String(left % 60).padStart(2, "0");
  const time = hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  say("time-left", fill(before ? "starts_in" : "time_left", { time }));
  // the policy's warnings ("5 minutes left"), as the pupils get them; from the clock, so a
  // page that reconnected after one still shows it
  const due = before ? [] : latest.session.warnings_minutes.filter((/** @type {number} */ m) => left <= m * 60);
  const warning = due.length ? words.minutes_left[String(Math.min(...due))] || "" : "";
  sayOnce("time-notice", left > 0 ? warning : "");
  if (latest.session.recording === "notice" && latest.session.recording_starts_at) {
    const wait = Math.max(0, Math.ceil((Date.parse(latest.session.recording_starts_at) - now) / 1000));
    const at = `${Math.floor(wait / 60)}:${String(wait % 60).padStart(2, "0")}`;
    say("recording-state", fill("recording_soon", { time: at }));
  } else {
    say("recording-state", latest.session.recording === "on" ? words.recording_is_on : words.not_recording);
  }
}
setInterval(tick, 1000);

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

/**
 * Open the small form that asks why a pupil is removed.
 * @param {string} id
 * @param {string} name
 */
function askWhy(id, name) {
  removing = id;
  say("remove-heading", fill("remove_who", { name }));
  el("remove-form").hidden = false;
  el("remove-error").hidden = true;
  /** @type {HTMLInputElement} */ (el("remove-reason")).value = "";
  el("remove-reason").focus();
}

function closeRemove() {
  removing = "";
  el("remove-form").hidden = true;
}

el("join").addEventListener("click", async () => {
  if (await act("join", {}, "join-problem") && latest) {
    el("heading").focus();
  }
});

el("admit-all").addEventListener("click", () => {
  act("admit_all", {}, "waiting-problem");
});

el("remove-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = /** @type {HTMLInputElement} */ (el("remove-reason"));
  if (!reason.value.trim()) {
    el("remove-error").hidden = false;
    reason.focus();
    return;
  }
  if (await act("remove", { pupil: removing, reason: reason.value.trim() }, "room-problem")) {
    closeRemove();
    el("room-heading").focus();
  }
});

el("remove-cancel").addEventListener("click", () => {
  closeRemove();
});

el("end").addEventListener("click", () => {
  act("end", {}, "end-problem");
});

el("emergency").addEventListener("click", () => {
  el("emergency-form").hidden = false;
  el("emergency-note").focus();
});

el("emergency-cancel").addEventListener("click", () => {
  el("emergency-form").hidden = true;
  el("emergency").focus();
});

el("emergency-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const note = /** @type {HTMLTextAreaElement} */ (el("emergency-note")).value.trim();
  act("emergency_end", { note }, "end-problem");
});

el("chat-switch").addEventListener("click", () => {
  const type = el("chat-switch").dataset.send;
  if (type) {
    act(type, {}, "chat-problem");
  }
});

el("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (el("chat-text"));
  const text = input.value.trim();
  if (text && (await act("chat", { text }, "chat-problem"))) {
    input.value = "";
  }
  input.focus();
});

el("start-recording").addEventListener("click", async () => {
  if (await act("start_recording", {}, "recording-problem")) {
    el("recording-heading").focus();
  }
});

el("stop-recording").addEventListener("click", async () => {
  if (await act("stop_recording", {}, "recording-problem")) {
    el("recording-heading").focus();
  }
});

el("concern").addEventListener("click", () => {
  el("concern-sent").hidden = true;
  el("concern-form").hidden = false;
  el("concern").hidden = true;
  const first = el("concern-pupils").querySelector("input");
  (first || el("concern-summary")).focus();
});

function closeConcern() {
  el("concern-form").hidden = true;
  el("concern").hidden = false;
  el("concern-error").hidden = true;
  el("concern-when-error").hidden = true;
  el("concern-summary-field").classList.remove("field-error");
}

el("concern-cancel").addEventListener("click", () => {
  closeConcern();
  el("concern").focus();
});

/**
 * When it happened, from the time field (today, in this computer's time zone); null for now.
 * @returns {string | null | undefined} undefined when that time is later than now
 */
function concernWhen() {
  const value = /** @type {HTMLInputElement} */ (el("concern-when")).value;
  if (!value) {
    return null;
  }
  const [hours, minutes] = value.split(":").map(Number);
  const when = new Date();
  when.setHours(hours, minutes, 0, 0);
  return when.getTime() > Date.now() ? undefined : when.toISOString();
}

el("concern-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const summary = /** @type {HTMLTextAreaElement} */ (el("concern-summary"));
  const pupils = [...el("concern-pupils").querySelectorAll("input:checked")].map(
    (input) => /** @type {HTMLInputElement} */ (input).value,
  );
  const when = concernWhen();
  el("concern-when-error").hidden = when !== undefined;
  if (!summary.value.trim()) {
    el("concern-error").hidden = false;
    el("concern-summary-field").classList.add("field-error");
    summary.focus();
    return;
  }
  if (when === undefined) {
    el("concern-when").focus();
    return;
  }
  /** @type {Record<string, any>} */
  const fields = {
    summary: summary.value.trim(),
    pupils,
    category: /** @type {HTMLSelectElement} */ (el("concern-category")).value,
  };
  if (when) {
    fields.happened_at = when;
  }
  if (await act("concern", fields, "concern-problem")) {
    summary.value = "";
    /** @type {HTMLInputElement} */ (el("concern-when")).value = "";
    for (const input of el("concern-pupils").querySelectorAll("input")) {
      /** @type {HTMLInputElement} */ (input).checked = false;
    }
    closeConcern();
    el("concern-sent").hidden = false;
    el("concern-sent").focus();
  }
});

room.connect();
