#!/usr/bin/env node
// The package's command. The TypeScript is compiled to dist/ by `npm ci` (the prepare script).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(70);
});
