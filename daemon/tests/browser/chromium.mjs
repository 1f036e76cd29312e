// How both drivers start Chromium: Debian's build (or $CHROMIUM), headless, and without
// the background-networking flags it waits on services it cannot reach on a closed
// network.
export const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
export const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
