/**
 * Import rules of vircommand's TypeScript (`npm run lint:deps`; part of `npm run lint`, which
 * `npm test` runs first). Each rule says why it exists in its `comment`: that text is what a
 * failing run prints. docs/internals.md describes the layout these rules keep.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A circle of imports (type-only ones included) means no module of it can be read, tested or ' +
        'moved alone, and at run time one of them sees the others half-loaded. Types that everyone ' +
        'uses live below everyone (src/types.ts imports only the name tables; the types a run carries ' +
        'are in src/run-record.ts, beside src/run/): move the shared piece down instead of importing back up.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'builder-never-imports-run',
      severity: 'error',
      comment:
        'The builder (src/command/) only records what the caller asked for; a run (src/run/) reads ' +
        'that record and goes one way: validate, plan, spawn, session, result. A builder module ' +
        'that imports the runner makes the run climb back up into the builder, and the two can ' +
        "no longer change apart. plan.ts is the builder's state (put together from the " +
        'command/*-setup.ts parts) and keeps the same rule.',
      from: { path: ['^src/command(/|\\.ts$)', '^src/plan\\.ts$'] },
      to: { path: '^src/run(/|\\.ts$)' },
    },
    {
      name: 'only-native-ts-loads-the-addon',
      severity: 'error',
      comment:
        'src/native.ts is the one door to C++: it loads the addon (node-gyp-build, a .node file, ' +
        'build/ or prebuilds/) once, says what failed when it cannot, and types the binding ' +
        '(NativeBinding). A second loader would bypass its checks and its types. (Test helpers ' +
        'that only find the addon file to copy it, with node-gyp-build.path(), are outside src/.)',
      from: { path: '^src/', pathNot: '^src/native\\.ts$' },
      to: {
        path: ['(^|/)node_modules/node-gyp-build/', '\\.node$', '(^|/)(build|build-[^/]+|prebuilds)/'],
      },
    },
    {
      name: 'native-ts-imports-nothing-of-the-package',
      severity: 'error',
      comment:
        'src/native.ts is the contract with C++ (NativePlan, NativeResult, the binding): everyone ' +
        'below the public API reads it, so it sits at the bottom and imports no module of the ' +
        'package; the plan parts that command/ builds are typed here, not there.',
      from: { path: '^src/native\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'src-never-imports-tests-or-scripts',
      severity: 'error',
      comment:
        'src/ is what ships (compiled to dist/); test/ and scripts/ do not ship, so an import of ' +
        'them from src/ breaks the installed package (and makes the library depend on its tests).',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
    {
      name: 'only-the-cli-imports-the-cli',
      severity: 'error',
      comment:
        'The vircommand program (src/cli/, whose index.ts is the bin) sits on top of the package and ' +
        'uses it as any caller does. A library module that imports it would load the option table ' +
        "and the program's exit paths (process.exit) into every require('vircommand'), and close a " +
        'circle with the package entry that the program imports.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-uses-the-package-entry',
      severity: 'error',
      comment:
        'The vircommand program reaches the package through src/index.ts, the public API, so what it ' +
        'does is what a caller can do and an internal change cannot break it unseen. Beside that, ' +
        'three internal helpers that are not public API: user-db.ts (user and group names), ' +
        "pidfile-failure.ts (the pidfile stage's detail) and run/long-timer.ts (timers past 24.8 " +
        'days). Another one is added here on purpose, with its reason, or made public.',
      from: { path: '^src/cli/' },
      to: {
        path: '^src/',
        pathNot: ['^src/cli/', '^src/index\\.ts$', '^src/user-db\\.ts$', '^src/pidfile-failure\\.ts$', '^src/run/long-timer\\.ts$'],
      },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment:
        'A module of src/ that imports nothing and that nothing imports (and is not an entry ' +
        'point: src/index.ts, or src/cli/index.ts, the bin) is dead code that still compiles and ships: delete it ' +
        'or import it where it is used.',
      from: {
        orphan: true,
        path: '^src/',
        pathNot: ['^src/index\\.ts$', '^src/cli/index\\.ts$', '\\.d\\.ts$'],
      },
      to: {},
    },
  ],
  options: {
    // Type-only imports count: a circle through `import type` is still a circle for the reader
    // (and the next edit that turns one into a value import makes it a run-time one).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^build', '^prebuilds/', '^docs/api/'] },
    moduleSystems: ['cjs', 'es6'],
    enhancedResolveOptions: {
      extensions: ['.ts', '.mts', '.js', '.cjs', '.mjs', '.json', '.node'],
    },
  },
};
