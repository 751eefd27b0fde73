/**
 * Lets the benchmark's plain-JavaScript scripts require the repository's TypeScript test helpers
 * (the one redis-server starter in __tests__/helpers/redis-servers.ts) by transpiling `.ts` files
 * on load with the project's own TypeScript. Type errors are tsc's job, not this hook's.
 */
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function loadTypeScript(module, filename) {
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    module._compile(outputText, filename);
  };
}
