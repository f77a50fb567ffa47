// @ts-check
/**
 * People's pictures on a page: one tile per person (their video, their name, and what is worth
 * knowing about them in words, never by colour alone), and the camera check's preview with the
 * microphone's level. This is the small DOM half of the room's video; `room-media.js` is the
 * WebRTC half, and the pages decide what each tile says.
 */

/**
 * @typedef {{
 *   key: string,
 *   name: string,
 *   about: string[],
 *   stream: MediaStream | null,
 *   showVideo: boolean,
 *   self?: boolean,
 * }} TileView
 * `about`: words after the name ("Adult from school", "microphone off"); `showVideo`: whether
 * the picture is worth showing (a camera that is off shows the first letter of the name);
 * `self`: the page's own camera, never played aloud.
 */

/**
 * Make a tile's element.
 * @param {string} key
 * @returns {HTMLElement}
 */
function makeTile(key) {
  const item = document.createElement("li");
  item.className = "video-tile";
  item.dataset.key = key;
  const frame = document.createElement("div");
  frame.className = "video-frame";
  frame.setAttribute("aria-hidden", "true"); // the label below says who it is
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  const letter = document.createElement("span");
  letter.className = "video-letter";
  frame.append(video, letter);
  const label = document.createElement("p");
  label.className = "video-label";
  const name = document.createElement("span");
  name.className = "name";
  const about = document.createElement("span");
  about.className = "about";
  label.append(name, about);
  item.append(frame, label);
  return item;
}

/**
 * Fill a tile's element from its view.
 * @param {HTMLElement} item
 * @param {TileView} tile
 */
function fillTile(item, tile) {
  const video = /** @type {HTMLVideoElement} */ (item.querySelector("video"));
  video.muted = Boolean(tile.self);
  if (video.srcObject !== tile.stream) {
    video.srcObject = tile.stream;
  }
  const showing = tile.showVideo && tile.stream !== null && tile.stream.getVideoTracks().length > 0;
  video.hidden = !showing;
  item.classList.toggle("video-none", !showing);
  if (tile.stream && video.paused) {
    video.play().catch(() => {}); // a page not yet clicked may not play sound; the next view tries again
  }
  /** @type {HTMLElement} */ (item.querySelector(".video-letter")).textContent = showing
    ? ""
    : tile.name.slice(0, 1).toUpperCase();
  /** @type {HTMLElement} */ (item.querySelector(".name")).textContent = tile.name;
  /** @type {HTMLElement} */ (item.querySelector(".about")).textContent = tile.about.length
    ? ` (${tile.about.join(", ")})`
    : "";
}

/**
 * Show `tiles` in `list` (a `ul` or `ol`), in order. Each person keeps their element (by `key`),
 * so a picture that is playing goes on playing; elements of people gone are removed.
 * @param {HTMLElement} list
 * @param {TileView[]} tiles
 */
export function showTiles(list, tiles) {
  /** @type {Map<string, HTMLElement>} */
  const old = new Map();
  for (const child of [...list.children]) {
    old.set(/** @type {HTMLElement} */ (child).dataset.key || "", /** @type {HTMLElement} */ (child));
  }
  const keep = new Set(tiles.map((tile) => tile.key));
  for (const [key, item] of old) {
    if (!keep.has(key)) {
      const video = item.querySelector("video");
      if (video) {
        video.srcObject = null;
      }
      item.remove();
    }
  }
  /** @type {Element | null} */
  let before = list.firstElementChild;
  for (const tile of tiles) {
    let item = old.get(tile.key);
    if (!item) {
      item = makeTile(tile.key);
    }
    if (item !== before) {
      list.insertBefore(item, before); // moving a video pauses it: fillTile plays it again
    } else {
      before = before.nextElementSibling;
    }
    fillTile(item, tile);
  }
}

/**
 * Play the camera in a preview (never aloud).
 * @param {HTMLVideoElement} video
 * @param {MediaStream | null} stream
 */
export function preview(video, stream) {
  video.muted = true;
  video.srcObject = stream;
  video.hidden = !stream || stream.getVideoTracks().length === 0;
  if (stream) {
    video.play().catch(() => {});
  }
}

/**
 * Show the microphone's loudness in `meter` (0 to 1), ten times a second, so a child can see
 * that they are heard. Returns a function that stops it.
 * @param {MediaStream} stream
 * @param {HTMLMeterElement} meter
 * @returns {() => void}
 */
export function micLevel(stream, meter) {
  const tracks = stream.getAudioTracks();
  const Context = globalThis.AudioContext;
  if (!tracks.length || !Context) {
    return () => {};
  }
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream(tracks)).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let peak = 0;
    for (const sample of samples) {
      peak = Math.max(peak, Math.abs(sample));
    }
    meter.value = Math.min(1, peak * 2);
  }, 100);
  return () => {
    clearInterval(timer);
    context.close().catch(() => {});
    meter.value = 0;
  };
}

/**
 * Show a shared screen large in `list` (a `ul`, hidden while nothing is shared): its picture,
 * labelled in the page's words ("Mrs Khan's screen"), kept whole rather than cropped, so the
 * class can read it. The sharer's camera stays in its own tile.
 * @param {HTMLElement} list
 * @param {{feed: string, stream: MediaStream, video: boolean} | null} screen
 * @param {string} label
 */
export function showScreen(list, screen, label) {
  list.hidden = !screen;
  showTiles(
    list,
    screen
      ? [{ key: `screen:${screen.feed}`, name: label, about: [], stream: screen.stream, showVideo: screen.video }]
      : [],
  );
}
