// @ts-check
/**
 * The staff console (templates/console.html): what the staff view says, for the adults running
 * the room.
 *
 * The room client (`room-client.js`) holds the socket; this module shows the staffing line, the
 * time left, the waiting room, who is in the room, the hands in order and the end buttons, and
 * sends what the member of staff asks for. A button is shown only where the view's `can` (or
 * `can_for`, per pupil) offers it; otherwise the room's own reason (`cannot`) is shown in its
 * place. The module has no words of its own: they come from the page's `#words` data block.
 */

import { RoomClient } from "./room-client.js";
import { act as send, el, pageWords, say } from "./room-page.js";
import { ScreenShare } from "./screen-share.js";

/** @typedef {import("./room-client.js").ClosedReport} ClosedReport */

const doc = document;
const root = /** @type {HTMLElement} */ (doc.getElementById("console"));
/** @type {Record<string, string>} */
const words = pageWords();

/**
 * A word with its `{name}` places filled.
 * @param {string} key
 * @param {Record<string, string | number>} values
 */
function fill(key, values) {
  return (words[key] || "").replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

const room = new RoomClient(root.dataset.session || "");
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

room.on("state", ({ view, now }) => {
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
  for (const id of ["join-part", "waiting-part", "room-part", "end-part", "time-left", "staffing-why"]) {
    el(id).hidden = true;
  }
  say("latest-notice", "");
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
  staffLine.classList.toggle("staffing-fails", short);
  const hold = view.session.hold;
  const reason = hold || cannot.admit_all || cannot.admit || null;
  say("staffing-why", short && reason ? reason.message : "");
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
        after.push(whyNot((cannot.admit || cannot.admit_all).message));
      }
      if (allowed.includes("deny")) {
        after.push(button(words.deny, `deny:${id}`, () => act("deny", { pupil: id }, "waiting-problem"), "secondary"));
      }
      return item(nameOf(id), [], after);
    }),
  );
  const everyone = can.includes("admit_all");
  el("admit-all").hidden = !everyone;
  // the room's reason once: not again under the list when each pupil already shows it
  const rowsSayWhy = Boolean(root.querySelector("#waiting .why-not"));
  const whyAll = !everyone && waiting.length && cannot.admit_all ? cannot.admit_all.message : "";
  say("admit-all-why", rowsSayWhy ? "" : whyAll);

  // in the room
  el("room-part").hidden = joinable;
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
      if (person.role === "pupil" && !person.mic_on) {
        about.push(words.mic_off);
      }
      if (person.hand_raised_at) {
        about.push(words.hand_up);
      }
      const after = [];
      if (allowed.includes("mute")) {
        after.push(button(words.mute, `mute:${person.id}`, () => act("mute", { target: person.id }, "room-problem"), "secondary"));
      }
      if (allowed.includes("unmute")) {
        after.push(button(words.unmute, `unmute:${person.id}`, () => act("unmute", { target: person.id }, "room-problem"), "secondary"));
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

  screen.show(view);

  el("end-part").hidden = !(can.includes("end") || can.includes("emergency_end"));
  el("end").hidden = !can.includes("end");
  el("emergency").hidden = !can.includes("emergency_end");

  if (focused) {
    const again = /** @type {HTMLElement | null} */ (root.querySelector(`[data-key="${CSS.escape(focused)}"]`));
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

room.connect();
