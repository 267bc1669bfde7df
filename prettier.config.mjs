// Prettier for the TypeScript and JavaScript of src/, test/, scripts/ and the root configs
// (`npm run format` writes, `npm run format:check` checks; the check is part of `npm run lint`).
// Chosen to be as close as possible to the style the code was written in:
/** @type {import('prettier').Config} */
export default {
  singleQuote: true,
  semi: true,
  trailingComma: 'all',
  // The code keeps related things on one line: 99% of its lines fit in 148 columns. Measured on
  // the whole tree, the lines a reformat changes: 10.4k at 120, 7.7k at 140, 6.6k at 160, 6.0k
  // at 180, 5.9k at 200; 160 takes most of the saving and keeps lines within a review pane.
  printWidth: 160,
  // Quoted keys stay as written (header names, option tables).
  quoteProps: 'preserve',
};
