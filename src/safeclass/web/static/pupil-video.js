// @ts-check
/**
 * The pupil's page's video (templates/pupil_room.html): the camera and microphone check before
 * joining, and in the class the adults large and the classmates small, each with their name;
 * while a member of staff shares a screen, the screen is the biggest picture of all, with its
 * sharer's name ("Mrs Khan's screen"), and the adults' cameras stay just below it.
 *
 * `pupil.js` calls `pupilVideo(room)` once and `render(view)` on every view; everything else is
 * here, so the page's own module stays about the class. A child with no camera, or whose family
 * says no to it, is told so plainly and still joins, sees and hears the class. The words come
 * from the page's `#video-words` data block.
 */

import { RoomMedia } from "./room-media.js";
import { el, pageWords, say } from "./room-page.js";
import { micLevel, preview, showScreen, showTiles } from "./video-tiles.js";

/** @typedef {import("./room-client.js").RoomClient} RoomClient */
/** @typedef {import("./room-media.js").Camera} Camera */
/** @typedef {import("./video-tiles.js").TileView} TileView */

/**
 * @param {RoomClient} room
 * @returns {{render: (view: any) => void, media: RoomMedia}}
 */
export function pupilVideo(room) {
  const block = /** @type {HTMLElement} */ (document.getElementById("video-words"));
  /** @type {Record<string, string>} */
  const words = JSON.parse(block.textContent || "{}");
  const listWords = pageWords(); // what each adult is, as the page's list of people says it
  const media = new RoomMedia(room);
  /** @type {any} */
  let latest = null;
  let stopLevel = () => {};
  let previewing = false;

  /** @param {Camera} camera */
  function showCamera(camera) {
    const checking = !el("screen-before").hidden;
    stopLevel();
    stopLevel = () => {};
    const stream = camera.stream;
    preview(/** @type {HTMLVideoElement} */ (el("camera-video")), checking ? stream : null);
    el("camera-preview").hidden = !stream || !checking;
    el("mic-field").hidden = !stream || stream.getAudioTracks().length === 0;
    previewing = Boolean(stream && checking);
    if (previewing && stream) {
      stopLevel = micLevel(stream, /** @type {HTMLMeterElement} */ (el("mic-level")));
    }
    say("camera-result", stream ? words.camera_ok : "");
    say("camera-problem", camera.problem ? words[`camera_${camera.problem}`] || words.camera_failed : "");
    el("camera-try").hidden = Boolean(stream);
  }

  media.on("camera", showCamera);
  media.on("status", (/** @type {string} */ status) => {
    const text = { reconnecting: words.reconnecting, off: words.off }[status] || "";
    say("video-notice", text);
    el("video").hidden = status === "off"; // nothing to show: "Who is here" has the names
  });
  media.on("tiles", () => draw());

  el("camera-try").addEventListener("click", () => {
    media.stopCamera(); // after a refusal, ask again
    media.openCamera();
  });

  function draw() {
    const view = latest;
    if (!view || !view.me || view.me.status !== "admitted") {
      showScreen(el("video-screen"), null, "");
      showTiles(el("video-staff"), []);
      showTiles(el("video-pupils"), []);
      return;
    }
    const screen = view.session.screen
      ? media.tiles.find((tile) => tile.source === "screen") || null
      : null;
    showScreen(el("video-screen"), screen, screen ? words.screen.replace("{name}", screen.name) : "");
    const received = media.tiles.filter((tile) => tile.source !== "screen");
    /** @type {TileView[]} */
    const adults = [];
    /** @type {TileView[]} */
    const pupils = [];
    /**
     * @param {{name: string, mic_on: boolean, camera_on: boolean}} person
     * @param {string[]} about
     */
    const facts = (person, about) => {
      if (!person.mic_on) {
        about.push(words.mic_off);
      }
      if (!person.camera_on) {
        about.push(words.camera_off);
      }
      return about;
    };
    for (const person of view.in_the_room) {
      const role = person.role === "pupil" ? "pupil" : "staff";
      const at = received.findIndex((tile) => tile.name === person.name && tile.role === role);
      const tile = at >= 0 ? received.splice(at, 1)[0] : null;
      // what each adult is, in the page's own words for the list ("Teacher"; the DSL stays
      // "Adult from school")
      const what = listWords[`staff_${person.staff_role}`] || listWords.staff;
      const about = facts(person, role === "staff" ? [what] : []);
      /** @type {TileView} */
      const shown = {
        key: tile ? tile.feed : `${role}:${person.name}`,
        name: person.name,
        about,
        stream: tile ? tile.stream : null,
        showVideo: Boolean(tile && tile.video && person.camera_on),
      };
      (role === "staff" ? adults : pupils).push(shown);
    }
    const mine = media.camera && media.camera.stream;
    pupils.unshift({
      key: "self",
      name: view.me.name,
      about: facts(view.me, [words.you]),
      stream: mine || null,
      showVideo: Boolean(mine && view.me.camera_on),
      self: true,
    });
    showTiles(el("video-staff"), adults);
    showTiles(el("video-pupils"), pupils);
  }

  /** @param {any} view */
  function render(view) {
    latest = view;
    const admitted = Boolean(view.me && view.me.status === "admitted");
    const checking = !el("screen-before").hidden;
    if (media.camera && Boolean(checking && media.camera.stream) !== previewing) {
      showCamera(media.camera); // the preview plays only on the screen before joining
    }
    media.setInRoom(admitted);
    draw();
  }

  return { render, media };
}
