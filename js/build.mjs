// Bundles js/index.ts and its CSS into one self-contained ES module for anywidget:
// no CDN import, no require.js, everything the page needs in two files; and
// js/loader.ts into loader.js, the ~1 kB `_esm` each widget carries (it loads the
// two files above from the one shared copy the kernel sends; see js/loader.ts).
// standalone.js is the same front end over embedded state, inlined into the files
// save_html() writes.
// colormaps.json is the page's colormaps and head palette as data, for attnwidget.plot.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const outdir = "src/attnwidget/static";
const common = { outdir, bundle: true, format: "esm", target: "es2022", minify: !watch, sourcemap: watch ? "inline" : false, logLevel: "info" };
const builds = [
  { ...common, entryPoints: { widget: "js/index.ts", loader: "js/loader.ts" } },
  // The saved page inlines widget.css itself: no second copy of the CSS.
  { ...common, entryPoints: { standalone: "js/standalone.ts" }, loader: { ".css": "empty" } },
];

async function writeColormaps() {
  const dir = await mkdtemp(join(tmpdir(), "attnwidget-colors-"));
  try {
    const script = join(dir, "colormaps.mjs");
    await esbuild.build({ entryPoints: ["js/shared/colormapExport.ts"], outfile: script, bundle: true, format: "esm", platform: "node" });
    const { colormapData } = await import(pathToFileURL(script).href);
    await writeFile(join(outdir, "colormaps.json"), JSON.stringify(colormapData()));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (watch) {
  await writeColormaps();
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  await writeColormaps();
}
