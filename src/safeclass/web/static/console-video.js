// @ts-check
/**
 * The staff console's video (templates/console.html): a grid of everyone in the room, each with
 * their name, their role and whether their microphone and camera are on, in words; above it,
 * while another member of staff shares a screen, that screen large ("Mrs Khan's screen").
 *
 * `console.js` calls `consoleVideo(room)` once and `render(view)` on every view. The member of
 * staff's own camera and microphone are sent once they are in the room; if the browser cannot
 * use them the console says so and everything else works. A person's tile is found by the
 * participant id the server gives staff with each stream. Words come from `#video-words`.
 */

import { RoomMedia } from "./room-media.js";
import { el, say } from "./room-page.js";
import { showScreen, showTiles } from "./video-tiles.js";

/** @typedef {import("./room-client.js").RoomClient} RoomClient */
/** @typedef {import("./video-tiles.js").TileView} TileView */

/** A member of staff's camera: larger than a pupil's, the class watches it. */
const STAFF_VIDEO = Object.freeze({
  width: { ideal: 640 },
  height: { ideal: 360 },
  frameRate: { ideal: 15, max: 15 },
});

/**
 * @param {RoomClient} room
 * @returns {{render: (view: any) => void, media: RoomMedia}}
 */
export function consoleVideo(room) {
  const block = /** @type {HTMLElement} */ (document.getElementById("video-words"));
  /** @type {Record<string, string>} */
  const words = JSON.parse(block.textContent || "{}");
  const media = new RoomMedia(room, { video: STAFF_VIDEO });
  /** @type {any} */
  let latest = null;

  media.on("status", (/** @type {string} */ status) => {
    say("video-notice", { reconnecting: words.reconnecting, off: words.off }[status] || "");
    draw();
  });
  media.on("camera", (/** @type {import("./room-media.js").Camera} */ camera) => {
    say("camera-problem", camera.problem ? words[`camera_${camera.problem}`] || words.camera_failed : "");
    draw();
  });
  media.on("tiles", () => draw());

  function draw() {
    const view = latest;
    const inRoom = Boolean(view && !view.can.includes("join") && !room.stopped);
    el("video-part").hidden = !inRoom || media.status === "off";
    if (!inRoom) {
      showScreen(el("video-screen"), null, "");
      showTiles(el("video-grid"), []);
      return;
    }
    const screen = view.session.screen
      ? media.tiles.find((tile) => tile.source === "screen") || null
      : null; // the sharer is never sent their own screen: the button says they share
    showScreen(el("video-screen"), screen, screen ? words.screen.replace("{name}", screen.name) : "");
    /** @type {Map<string, import("./room-media.js").Tile>} */
    const byPerson = new Map(
      media.tiles.filter((tile) => tile.source !== "screen").map((tile) => [tile.participant, tile]),
    );
    const mine = media.camera && media.camera.stream;
    // while the class is held nothing of any pupil is forwarded: no frozen last picture
    const held = Boolean(view.session.hold);
    /** @type {TileView[]} */
    const tiles = view.people
      .filter((/** @type {any} */ person) => person.status === "admitted")
      .map((/** @type {any} */ person) => {
        const self = person.id === view.you;
        const tile = self ? null : byPerson.get(person.id);
        const about = [self ? words.you : words[`role_${person.role}`] || ""].filter(Boolean);
        const paused = held && person.role === "pupil";
        if (paused) {
          about.push(words.paused);
        } else {
          about.push(person.mic_on ? words.mic_on : words.mic_off);
          about.push(person.camera_on ? words.camera_on : words.camera_off);
        }
        const stream = self ? mine || null : tile ? tile.stream : null;
        return {
          key: self ? "self" : person.id,
          name: person.name,
          about,
          stream,
          showVideo: Boolean(!paused && person.camera_on && (self ? mine : tile && tile.video)),
          self,
        };
      });
    showTiles(el("video-grid"), tiles);
  }

  /** @param {any} view */
  function render(view) {
    latest = view;
    const me = view.people.find((/** @type {any} */ person) => person.id === view.you);
    media.setInRoom(Boolean(me && me.status === "admitted"));
    draw();
  }

  return { render, media };
}
