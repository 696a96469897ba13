// Fails when a module of js/ imports upward: the front end is layered data → state → shared →
// panels → entries (index.ts, loader.ts, standalone.ts and standalone/), and a layer may import
// only its own and those below it. Panels import no other panel: what two panels share belongs
// in shared/ (or state/, data/). testing/ is the tests' support: only tests import it.
// Type-only imports count like any other: a type is a dependency on the module that defines it.
// Usage: node js/checkLayers.mjs (npm run check:layers); exits 1 and names each import that breaks them.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = dirname(fileURLToPath(import.meta.url));
const LAYERS = ["data", "state", "shared", "panels", "entry"];
const ENTRIES = new Set(["index.ts", "loader.ts", "standalone.ts"]);

/** The layer of a module (a path relative to js/), "testing" for test support, or null for none. */
function layerOf(path) {
  const [top] = path.split("/");
  if (ENTRIES.has(path) || top === "standalone") return "entry";
  if (top === "testing") return "testing";
  return LAYERS.includes(top) ? top : null;
}

/** The panel a module of panels/ belongs to: its folder, or the file for a one-file panel. */
function panelOf(path) {
  const [, name = ""] = path.split("/");
  return name.replace(/\.ts$/, "");
}

function modules(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** The .ts module a relative specifier names, as the bundler resolves it, or null (a stylesheet, a package). */
function resolveImport(from, specifier) {
  if (!specifier.startsWith(".")) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
    if (candidate.endsWith(".ts") && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

const problems = [];
for (const file of modules(root)) {
  const path = relative(root, file).split(sep).join("/");
  const layer = layerOf(path);
  const isTest = path.endsWith(".test.ts");
  if (layer === null) {
    problems.push(`js/${path} is in no layer: put it in ${LAYERS.slice(0, -1).join("/, ")}/ or make it an entry`);
    continue;
  }
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  for (const { fileName } of importedFiles) {
    const target = resolveImport(file, fileName);
    if (!target) continue;
    const targetPath = relative(root, target).split(sep).join("/");
    const targetLayer = layerOf(targetPath);
    const where = `js/${path} imports js/${targetPath}`;
    if (targetLayer === "testing") {
      if (!isTest && layer !== "testing") problems.push(`${where}: only tests import testing/`);
      continue;
    }
    if (layer === "testing") {
      if (targetLayer === "entry") problems.push(`${where}: test support does not import an entry`);
      continue;
    }
    if (targetLayer === null) continue; // reported as a module in no layer
    if (LAYERS.indexOf(targetLayer) > LAYERS.indexOf(layer)) {
      problems.push(`${where}: ${layer} may not import ${targetLayer} (${LAYERS.join(" → ")})`);
    } else if (!isTest && layer === "panels" && targetLayer === "panels" && panelOf(path) !== panelOf(targetPath)) {
      problems.push(`${where}: a panel does not import another panel; move what they share to shared/`);
    }
  }
}

if (problems.length > 0) {
  console.error(`${problems.length} import${problems.length === 1 ? " breaks" : "s break"} the layers:\n${problems.map((line) => `  ${line}`).join("\n")}`);
  process.exit(1);
}
console.log("layers: every import points down (data → state → shared → panels → entries)");
