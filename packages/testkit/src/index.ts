export { freePort } from './ports.js';
export { tempDir } from './temp.js';
export { CLI_BIN, cliOk, lastLine, runCli, type CliResult } from './cli.js';
export { StationProcess, linkStations, type StationOptions } from './station-process.js';
export { TcpProxy, type PauseMode } from './tcp-proxy.js';
export {
  checkLiveView,
  checkStream,
  type SenderLog,
  type SentItem,
  type StreamCheckInput,
  type StreamCheckReport,
  type TimelineItem,
} from './stream-checker.js';
export { freshPostgresDatabase, testPostgresUrl } from './postgres.js';
export { cliMember, eventually } from './cli-profiles.js';
export { benchArg } from './bench-args.js';
export { cpuMsOf, percentile } from './bench-stats.js';
