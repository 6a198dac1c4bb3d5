export { freePort } from './ports.js';
export { tempDir } from './temp.js';
export { CLI_BIN, cliOk, lastLine, runCli, type CliResult } from './cli.js';
export { StationProcess, linkStations, type StationOptions } from './station-process.js';
