#!/usr/bin/env node
/**
 * The package's bin, `vircommand` (package.json "bin": dist/cli/index.js): it only starts
 * main.ts when run as a program (requiring it does nothing); docs/internals.md lists the files
 * of the command line.
 */
import { main } from './main';

if (require.main === module) main(process.argv.slice(2));
