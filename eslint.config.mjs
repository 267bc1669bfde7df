// ESLint for vircommand (`npm run lint:es`; part of `npm run lint`, which `npm test` runs first).
// TypeScript (src/, test/, the vitest configs) is linted with type information
// (typescript-eslint's recommendedTypeChecked and the promise and switch rules below); the
// plain-JS scripts (scripts/, test/smoke, test/valgrind, test/helpers/*.cjs) with the rules that
// need no types, as CommonJS for Node (they run without the TypeScript loader); the .mjs
// configs as modules. Run with `eslint .`: what is linted is what is not ignored below.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'build/', 'build-*/', 'prebuilds/', 'docs/api/', 'bench-results/', 'scripts/bench/results.*'],
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The rules this config exists for: a promise nobody awaits or catches loses its error
      // (an unhandled rejection kills a root daemon); a promise where a boolean or a void
      // callback is expected is always truthy / never awaited; a switch over a union must name
      // every member, so a new stage, signal or option value cannot fall through unhandled.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],

      // Where the recommended rules fight the codebase's deliberate style, each with why:
      // `async` without `await` is how a function returns a promise for an interface that wants
      // one (Symbol.asyncDispose, async callbacks of runRegex/runNul in tests) and turns a throw
      // into a rejection, as the API promises ("as a rejection").
      '@typescript-eslint/require-await': 'off',
      // Rethrowing what was caught (unknown) is the point of a wrapper; internal tag classes
      // thrown and caught within one file (src/run/consume.ts) say which side failed.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true, allow: [{ from: 'file', name: ['CallbackFailure', 'StreamFailure'] }] }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Arrays and numbers in messages print as `1,2` and `3`: that is what the messages want.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowArray: true, allowNullish: true }],
      // `_` names a value the loop or destructuring must take and does not use.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { varsIgnorePattern: '^_', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // An interface that only extends another is a named options type for the docs
      // (RunNulOptions extends RunOptions), not an accident.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // A timer declared before the callback that clears it and assigned after: cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `catch {}` says "a failure here changes nothing" (cleanup of a temporary file, a probe).
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read what the child reports with JSON.parse (any) and check it with expect(): a
      // type per report would restate the assertion. src/ keeps these rules (no finding there).
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['test/types/**/*.ts'],
    rules: {
      // Type tests name methods without calling them (expectTypeOf(cmd.run)): no `this` is lost.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // As for TypeScript above.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
