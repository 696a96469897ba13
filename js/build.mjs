// Bundles js/index.ts and its CSS into one self-contained ES module for anywidget:
// no CDN import, no require.js, everything the page needs in two files; and
// js/loader.ts into loader.js, the ~1 kB `_esm` each widget carries (it loads the
// two files above from the one shared copy the kernel sends; see js/loader.ts).
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: { widget: "js/index.ts", loader: "js/loader.ts" },
  outdir: "src/attnwidget/static",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  logLevel: "info",
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
