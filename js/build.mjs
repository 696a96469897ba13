// Bundles js/index.ts and its CSS into one self-contained ES module for anywidget:
// no CDN import, no require.js, everything the page needs in two files. standalone.js is the
// same front end over embedded state, inlined into the files save_html() writes.
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: { widget: "js/index.ts", standalone: "js/standalone.ts" },
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
