#!/usr/bin/env node
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerCallCommands } from './commands/calls.js';
import { registerTranslateCommand } from './commands/translate.js';
import { registerClientCommands } from './commands/client.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerRecordCommands } from './commands/record.js';
import { fail } from './output.js';

const program = new Command();
program
  .name('parley')
  .description('Parley: direct lines between stations that do not trust each other')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');
registerAdminCommands(program);
registerClientCommands(program);
registerCallCommands(program);
registerTranslateCommand(program);
registerDemoCommand(program);
registerRecordCommands(program);

program.parseAsync(process.argv).catch(fail);
