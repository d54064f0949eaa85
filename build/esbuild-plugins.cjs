'use strict';
/* global module, require */
/**
 * esbuild plugins of the deployable bundles (serverless.yml custom.esbuild.plugins). CommonJS:
 * serverless-esbuild loads this file with require().
 */
// CommonJS has no import statement: require() is this file's only way in.
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = require('node:fs');
const path = require('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Source maps are built but not shipped: after each build, every `.map` next to a bundle is moved
 * out of serverless-esbuild's build folder (which it zips) into its `.serverless/sourcemaps/`
 * (which it copies into the package folder with the zips). So a zip holds its bundle alone, Node
 * never reads a map at init, and the map of a stack trace's bundle is
 * `<package folder>/sourcemaps/functions/<function>/handler.mjs.map` (`.serverless/` by default,
 * or the folder given to `serverless package --package`). The bundles are built with
 * `sourcemap: external`, so they carry no sourceMappingURL comment pointing at a missing file.
 */
const sourceMapsBesideThePackage = {
  name: 'modelgate-source-maps-beside-the-package',
  setup(build) {
    const { outdir, entryPoints } = build.initialOptions;
    const entry = Array.isArray(entryPoints) && typeof entryPoints[0] === 'string' ? entryPoints[0] : undefined;
    if (!outdir || !entry) return;
    build.onEnd(() => {
      if (!fs.existsSync(outdir)) return;
      const maps = fs.readdirSync(outdir).filter((f) => f.endsWith('.map'));
      if (maps.length === 0) return;
      // serverless-esbuild builds <entry> into <work folder>/<build folder>/<dirname(entry)>.
      const relativeDir = path.dirname(entry);
      const buildDir = path.resolve(outdir).slice(0, -path.normalize(relativeDir).length - 1);
      const target = path.join(path.dirname(buildDir), '.serverless', 'sourcemaps', relativeDir);
      fs.mkdirSync(target, { recursive: true });
      for (const map of maps) fs.renameSync(path.join(outdir, map), path.join(target, map));
    });
  },
};

module.exports = [sourceMapsBesideThePackage];
